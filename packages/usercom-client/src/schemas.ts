import { z } from 'zod'

// Request bodies and responses of the User.com calls delivery makes (../WIRE.md). Responses are parsed
// loosely: documented fields are checked, anything else is kept as is.

const JsonObject = z.record(z.string(), z.unknown())
const NullableString = z.string().nullable().optional()

// ----- requests

/** `POST /users/update_or_create/`: `custom_id` plus standard fields and custom attributes by `name_std`. */
export const UpsertUserBodySchema = z.looseObject({ custom_id: z.string().min(1) })
export type UpsertUserBody = z.infer<typeof UpsertUserBodySchema>

/**
 * `POST /attributes/`. `content_type` and `value_type` are User.com's words (`clientuser`, `string`, ...):
 * the planner (`@ucd/mapping`) owns their enumeration; the transport only requires them to be there.
 */
export const CreateAttributeBodySchema = z.object({
  name: z.string().min(1).max(32),
  content_type: z.string().min(1),
  value_type: z.string().min(1),
  choices: z.array(z.string()).optional(),
})
export type CreateAttributeBody = z.infer<typeof CreateAttributeBodySchema>

/** `POST /events/`: timestamp in Unix seconds. */
export const CreateEventBodySchema = z.object({
  user_id: z.number().int(),
  name: z.string().min(1),
  data: JsonObject,
  timestamp: z.number().int(),
})
export type CreateEventBody = z.infer<typeof CreateEventBodySchema>

/** `POST /site-views/`: `client_user` is the user's `user_key`; `page_domain` an origin. */
export const CreateSiteViewBodySchema = z.object({
  client_user: z.string().min(1),
  page_domain: z.string(),
  page_path: z.string(),
  timestamp: z.union([z.string(), z.number().int()]),
  page_title: z.string().optional(),
  referrer: z.string().optional(),
})
export type CreateSiteViewBody = z.infer<typeof CreateSiteViewBodySchema>

/** `POST /companies/` (needs `custom_id`) and `PUT /companies-by-id/:custom_id/` (partial). */
export const CompanyBodySchema = z.looseObject({ custom_id: z.string().min(1).optional() })
export type CompanyBody = z.infer<typeof CompanyBodySchema>
export const CreateCompanyBodySchema = z.looseObject({ custom_id: z.string().min(1) })
export type CreateCompanyBody = z.infer<typeof CreateCompanyBodySchema>

/** `POST /companies/:id/add_member/`. */
export const AddMemberBodySchema = z.object({
  user_id: z.number().int(),
  user_custom_id: z.string().optional(),
})
export type AddMemberBody = z.infer<typeof AddMemberBodySchema>

/**
 * `POST /users/merge/` (usercom-api.md §2.8): `users_list` merged into `parent`. The doc's curl example
 * misspells the list as `user_list`; the documented body field is `users_list`.
 */
export const MergeUsersBodySchema = z.object({
  parent: z.number().int().positive(),
  users_list: z.array(z.number().int().positive()).min(1),
})
export type MergeUsersBody = z.infer<typeof MergeUsersBodySchema>

// ----- responses

export const UpsertUserResultSchema = z.looseObject({ created: z.boolean(), id: z.number().int() })
export type UpsertUserResult = z.infer<typeof UpsertUserResultSchema>

export const UsercomUserSchema = z.looseObject({
  id: z.number().int(),
  custom_id: NullableString,
  user_key: z.string().min(1),
  email: NullableString,
  first_name: NullableString,
  last_name: NullableString,
  page_views: z.number().int().optional(),
  last_seen: NullableString,
  attributes: z.array(z.looseObject({ name_std: z.string(), value: z.unknown() })).optional(),
})
export type UsercomUser = z.infer<typeof UsercomUserSchema>

/** An attribute as User.com lists it (types kept as strings: the API may know more than we do). */
export const UsercomAttributeSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  name_std: z.string(),
  value_type: z.string(),
  content_type: z.string(),
  choices: z.array(z.string()).nullable().optional(),
})
export type UsercomAttribute = z.infer<typeof UsercomAttributeSchema>

export const AttributesPageSchema = z.looseObject({
  count: z.number().int().optional(),
  next: z.string().nullable(),
  previous: z.string().nullable().optional(),
  results: z.array(UsercomAttributeSchema),
})
export type AttributesPage = z.infer<typeof AttributesPageSchema>

export const CreateEventResultSchema = z.looseObject({ id: z.number().int(), created: z.boolean() })
export type CreateEventResult = z.infer<typeof CreateEventResultSchema>

export const CreateSiteViewResultSchema = z.looseObject({ id: z.number().int() })
export type CreateSiteViewResult = z.infer<typeof CreateSiteViewResultSchema>

export const UsercomCompanySchema = z.looseObject({
  id: z.number().int(),
  custom_id: NullableString,
  name: NullableString,
  employees: z.array(z.number().int()).optional(),
})
export type UsercomCompany = z.infer<typeof UsercomCompanySchema>

/** The body of `add_member` is not documented: any JSON is accepted. */
export const AddMemberResultSchema = z.unknown()
export type AddMemberResult = z.infer<typeof AddMemberResultSchema>

/**
 * One event occurrence as the user's event listing shows it (§2.5, event model §3.2): `timestamp` is
 * Unix seconds (an ISO text is accepted and read as seconds), `data` the object sent.
 */
export const UsercomEventOccurrenceSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  data: z.unknown().optional(),
  timestamp: z.union([z.number(), z.string()]).nullable().optional(),
})
export type UsercomEventOccurrence = z.infer<typeof UsercomEventOccurrenceSchema>

/** A page of `GET /users-by-id/:custom_id/events/` (cursor pagination, §1.4: follow `next` verbatim). */
export const UserEventsPageSchema = z.looseObject({
  count: z.number().int().optional(),
  next: z.string().nullable(),
  previous: z.string().nullable().optional(),
  results: z.array(UsercomEventOccurrenceSchema),
})
export type UserEventsPage = z.infer<typeof UserEventsPageSchema>
/** The documented answer of a merge is `{"success": true}`; any 2xx JSON counts as done. */
export const MergeUsersResultSchema = z.unknown()
export type MergeUsersResult = z.infer<typeof MergeUsersResultSchema>
