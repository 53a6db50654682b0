import { z } from 'zod'

// What a Segment event becomes in User.com: an ordered list of operations that
// packages/delivery's executor runs. This file is the contract between the planner (pure,
// this package) and the executor (I/O). Every operation has a `key`, unique within its plan and
// stable across re-planning of the same event, used as the checkpoint name: a retried delivery
// skips the keys that already succeeded.

/** User.com attribute value types (usercom-api.md §5.1). */
export const ATTRIBUTE_VALUE_TYPES = [
  'string',
  'integer',
  'float',
  'boolean',
  'date',
  'datetime',
  'fixed',
  'json',
] as const
export const AttributeValueTypeSchema = z.enum(ATTRIBUTE_VALUE_TYPES)
export type AttributeValueType = z.infer<typeof AttributeValueTypeSchema>

/** Which object an attribute belongs to: users are `clientuser`, companies `company`. */
export const AttributeContentTypeSchema = z.enum(['clientuser', 'company'])
export type AttributeContentType = z.infer<typeof AttributeContentTypeSchema>

/** One custom attribute already defined in the tenant's User.com app. */
export const AttributeDefSchema = z.object({
  contentType: AttributeContentTypeSchema,
  /** The display name it was created with (at most 32 characters). */
  name: z.string(),
  /** snake_case key used in request bodies. */
  nameStd: z.string(),
  valueType: AttributeValueTypeSchema,
  /** For `fixed` attributes: the allowed values. */
  choices: z.array(z.string()).optional(),
})
export type AttributeDef = z.infer<typeof AttributeDefSchema>

/** The tenant's attribute catalog, as the planner sees it. */
export const AttributeCatalogSchema = z.array(AttributeDefSchema)
export type AttributeCatalog = z.infer<typeof AttributeCatalogSchema>

const JsonObject = z.record(z.string(), z.unknown())

/**
 * The value types the planner creates attributes with: `string`, the destination doc's rule for every
 * trait ("it will be created with the type `string`"), and `datetime` for the one attribute that holds
 * a date by definition, `signed_up_at` (Segment's reserved trait `createdAt`): a string would lose
 * what User.com can do with a date (segments by age, "signed up in the last 7 days").
 */
export const CreatedValueTypeSchema = AttributeValueTypeSchema.extract(['string', 'datetime'])
export type CreatedValueType = z.infer<typeof CreatedValueTypeSchema>

/** Create a custom attribute that does not exist yet (as `string`; `signed_up_at` as `datetime`). */
export const EnsureAttributeOpSchema = z.object({
  op: z.literal('ensure_attribute'),
  /** `attribute:<contentType>:<nameStd>` */
  key: z.string(),
  contentType: AttributeContentTypeSchema,
  name: z.string(),
  nameStd: z.string(),
  valueType: CreatedValueTypeSchema,
})

/** identify: `POST /users/update_or_create/` with `body` (which carries `custom_id`). Result: `{ id }`. */
export const UpsertUserOpSchema = z.object({
  op: z.literal('upsert_user'),
  key: z.literal('user'),
  customId: z.string(),
  body: JsonObject,
})

/**
 * track, page, group: make sure the user with `custom_id = customId` exists and learn its internal
 * `id` (and `user_key` when `needUserKey`), from the identity cache or by an upsert that creates it.
 */
export const ResolveUserOpSchema = z.object({
  op: z.literal('resolve_user'),
  key: z.literal('user'),
  customId: z.string(),
  needUserKey: z.boolean(),
})

/**
 * track (and screen, when the tenant delivers screens as events): `POST /events/ { user_id, ...body }`;
 * body is `{ name, data, timestamp }` (Unix seconds).
 */
export const CreateEventOpSchema = z.object({
  op: z.literal('create_event'),
  key: z.literal('event'),
  customId: z.string(),
  body: z.object({ name: z.string(), data: JsonObject, timestamp: z.number().int() }),
})

/**
 * page: `POST /site-views/ { client_user: <user_key>, ...body }`; body is
 * `{ page_domain, page_path, timestamp, page_title?, referrer? }` (timestamp ISO 8601 UTC).
 */
export const CreatePageViewOpSchema = z.object({
  op: z.literal('create_page_view'),
  key: z.literal('page_view'),
  customId: z.string(),
  body: z.object({
    page_domain: z.string(),
    page_path: z.string(),
    timestamp: z.string(),
    page_title: z.string().optional(),
    referrer: z.string().optional(),
  }),
})

/**
 * group (and identify's `traits.company`): update the company with `custom_id = companyCustomId`
 * (`PUT /companies-by-id/:id/`), or create it (`POST /companies/ { custom_id, ...body }`) when it does
 * not exist. Result: `{ id }`.
 */
export const UpsertCompanyOpSchema = z.object({
  op: z.literal('upsert_company'),
  key: z.literal('company'),
  companyCustomId: z.string(),
  body: JsonObject,
})

/** group (and identify's `traits.company`): `POST /companies/:id/add_member/ { user_id, user_custom_id }`. */
export const AddCompanyMemberOpSchema = z.object({
  op: z.literal('add_company_member'),
  key: z.literal('member'),
  companyCustomId: z.string(),
  customId: z.string(),
})

/**
 * Anonymous → identified (an event with both ids, or `alias`): merge the user this product created from
 * `anonymousId`'s anonymous calls into the user with `custom_id = customId` (`POST /users/merge/`), once
 * per anonymous visitor, and remember anonymousId → customId. Never merges a user that was not created
 * from anonymous calls, nor an anonymousId already mapped to another user (packages/delivery, identity/).
 * Result: `{ outcome }`.
 */
export const MergeUsersOpSchema = z.object({
  op: z.literal('merge_users'),
  key: z.literal('merge'),
  /** The identified user (the merge's parent): `userId`. */
  customId: z.string(),
  /** The anonymous visitor's id: `anonymousId`, or an alias's `previousId`. */
  anonymousId: z.string(),
})

export const OperationSchema = z.discriminatedUnion('op', [
  EnsureAttributeOpSchema,
  UpsertUserOpSchema,
  ResolveUserOpSchema,
  CreateEventOpSchema,
  CreatePageViewOpSchema,
  UpsertCompanyOpSchema,
  AddCompanyMemberOpSchema,
  MergeUsersOpSchema,
])
export type Operation = z.infer<typeof OperationSchema>
export type OperationKind = Operation['op']

/** A value left out of the delivery, and why (counted and logged by the worker). */
export const DroppedSchema = z.object({
  /** Where it came from, e.g. `traits.custom_integer`, `context.device.type`. */
  field: z.string(),
  reason: z.string(),
})
export type Dropped = z.infer<typeof DroppedSchema>

export const PlanSchema = z.object({
  eventType: z.string(),
  messageId: z.string(),
  /** `userId ?? anonymousId`. */
  customId: z.string(),
  steps: z.array(OperationSchema),
  dropped: z.array(DroppedSchema),
  /** Set when the event is not delivered at all (screen unless delivered as events; alias unless merging): why. `steps` is then empty. */
  skipped: z.string().optional(),
})
export type Plan = z.infer<typeof PlanSchema>
