import { z } from 'zod'

// Options, faults and the introspection snapshot of the simulator. Every type the package exports
// is inferred from these schemas.

/** User.com attribute value types (usercom-api.md §5.1: "boolean, date, datetime, fixed, float, integer, json, string"). */
export const SIM_VALUE_TYPES = [
  'boolean',
  'date',
  'datetime',
  'fixed',
  'float',
  'integer',
  'json',
  'string',
] as const
export const SimValueTypeSchema = z.enum(SIM_VALUE_TYPES)

/** Content types `POST /attributes/` accepts (users are `clientuser`). */
export const SIM_CONTENT_TYPES = ['activity', 'clientuser', 'company', 'deal', 'product', 'ticket'] as const
export const SimContentTypeSchema = z.enum(SIM_CONTENT_TYPES)

/** An API key and the app (tenant) whose data it reaches. */
export const SimKeySchema = z.object({
  key: z.string().min(1),
  app: z.string().min(1),
  /** A revoked key is answered with 403. */
  revoked: z.boolean().default(false),
})
export type SimKey = z.infer<typeof SimKeySchema>

const faultFields = {
  latencyMs: z.number().int().min(0),
  jitterMs: z.number().int().min(0),
  errorRate: z.number().min(0).max(1),
  errorStatus: z.number().int().min(500).max(599),
  dropRate: z.number().min(0).max(1),
  lostResponseRate: z.number().min(0).max(1),
  rateLimitRps: z.number().positive().nullable(),
  rateLimitBurst: z.number().int().positive().nullable(),
  retryAfterSeconds: z.number().int().min(0).nullable(),
  retryAfterFormat: z.enum(['seconds', 'http-date', 'none']),
}

/**
 * Random and global faults. Set at start (options, `SIM_*` env) and changed at run time with
 * `PUT /__sim/faults` (a partial object, merged).
 */
export const FaultsSchema = z.object({
  /** Added to every API request, before anything else. */
  latencyMs: faultFields.latencyMs.default(0),
  /** Plus a uniformly random 0..jitterMs (seeded). */
  jitterMs: faultFields.jitterMs.default(0),
  /** Share of API requests answered with `errorStatus` (seeded), after auth. */
  errorRate: faultFields.errorRate.default(0),
  errorStatus: faultFields.errorStatus.default(503),
  /** Share of API requests whose connection is destroyed without a response (seeded). */
  dropRate: faultFields.dropRate.default(0),
  /**
   * Share of writes (POST, PUT) that take effect and are then answered 504 (seeded): a response lost
   * after User.com applied the write. Counted as `504-applied`.
   */
  lostResponseRate: faultFields.lostResponseRate.default(0),
  /** Requests per second per app (token bucket); null = unlimited. Over it: 429 + Retry-After. */
  rateLimitRps: faultFields.rateLimitRps.default(null),
  /** Bucket size; null = max(1, ceil(rateLimitRps)). */
  rateLimitBurst: faultFields.rateLimitBurst.default(null),
  /** Retry-After sent with 429 (seconds); null = the time until the bucket has a token, at least 1 s. */
  retryAfterSeconds: faultFields.retryAfterSeconds.default(null),
  /** `seconds` ("2"), `http-date` ("Wed, 21 Oct 2026 07:28:00 GMT") or `none` (no header). */
  retryAfterFormat: faultFields.retryAfterFormat.default('seconds'),
})
export type Faults = z.infer<typeof FaultsSchema>
/** A change to the faults: only the fields given (no defaults, so nothing else is reset). */
export const FaultsPatchSchema = z.object(faultFields).partial().strict()
export type FaultsPatch = z.infer<typeof FaultsPatchSchema>

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const

/**
 * A targeted failure: requests matching `method` + `route` (the route template without the base
 * path, e.g. `/companies/:id/add_member/`; `*` matches any method or any route) and, if given,
 * `app`, are delayed by `delayMs` and then answered with `status` or dropped. With neither
 * `status`, `drop` nor `delayMs` they are answered with 503. It applies to the next `count`
 * matching requests (default 1), or, with `durationMs`, to every matching request for that long
 * (or to `count` of them, whichever ends first). `phase: 'before'` fails them before they take
 * effect; `after` (or `afterApply: true`) lets them take effect, then replaces the response (a lost
 * response: the write happened, the caller does not know), counted as e.g. `504-applied`.
 */
export const FailNextSchema = z
  .object({
    method: z
      .string()
      .transform(m => m.toUpperCase())
      .pipe(z.enum([...HTTP_METHODS, '*'])),
    route: z.union([z.literal('*'), z.string().startsWith('/')]),
    count: z.number().int().positive().optional(),
    durationMs: z.number().int().positive().optional(),
    status: z.number().int().min(400).max(599).optional(),
    drop: z.boolean().default(false),
    delayMs: z.number().int().min(0).default(0),
    phase: z.enum(['before', 'after']).optional(),
    /** Same as `phase: 'after'`. */
    afterApply: z.boolean().optional(),
    /** Retry-After header value to send with the status (e.g. "3" or an HTTP-date). */
    retryAfter: z.string().optional(),
    /**
     * With a 4xx status (before the request is applied): answer the API's field-error body
     * `{"errors": {"<field>": ["<message>"]}}` instead of `{"detail": ...}`, as a refusal of those fields.
     */
    errors: z.record(z.string(), z.array(z.string())).optional(),
    app: z.string().optional(),
    /**
     * Only requests about this user or company: the `custom_id` of the JSON body (update_or_create,
     * companies) or of the path (`/users-by-id/:custom_id/...`, `/companies-by-id/:custom_id/`).
     */
    customId: z.string().min(1).optional(),
  })
  .strict()
  .refine(rule => !(rule.afterApply === true && rule.phase === 'before'), {
    error: 'afterApply: true contradicts phase: "before"',
    path: ['afterApply'],
  })
  .transform(({ afterApply, phase, ...rule }) => ({
    ...rule,
    phase: afterApply === true ? ('after' as const) : (phase ?? 'before'),
    status: rule.status === undefined && !rule.drop && rule.delayMs === 0 ? 503 : rule.status,
  }))
export type FailNextRule = z.infer<typeof FailNextSchema>
export type FailNextInput = z.input<typeof FailNextSchema>

export const SimOptionsSchema = z.object({
  /** API keys and their apps. Default: one key `sim-api-key` for app `default`. */
  keys: z.array(SimKeySchema).default([{ key: 'sim-api-key', app: 'default', revoked: false }]),
  /** Where the API lives: requests go to `<origin><basePath>/users/...`. */
  basePath: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, { error: 'must be "" or "/seg/seg" without a trailing slash' })
    .default('/api/public'),
  /** Seed of the PRNG behind jitter, error and drop rates and user keys. */
  seed: z.number().int().default(1),
  /** Results per page of `GET /attributes/`. */
  pageSize: z.number().int().positive().default(100),
  /** Results per page of the event listings (`GET /users-by-id/:custom_id/events/`). */
  eventPageSize: z.number().int().positive().default(100),
  /** Event occurrences and page views kept per app (the oldest are forgotten; totals keep counting). */
  maxStoredRecords: z.number().int().positive().default(100_000),
  faults: FaultsSchema.default(FaultsSchema.parse({})),
})
export type SimOptions = z.infer<typeof SimOptionsSchema>
export type SimOptionsInput = z.input<typeof SimOptionsSchema>

// ---------------------------------------------------------------------------------------------
// Stored records (what `GET /__sim/state` shows)

const Nullable = z.string().nullable()

export const SimAttributeSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  name_std: z.string(),
  value_type: SimValueTypeSchema,
  content_type: SimContentTypeSchema,
  choices: z.array(z.string()).optional(),
  allow_multiple_choices: z.boolean().optional(),
})
export type SimAttribute = z.infer<typeof SimAttributeSchema>

export const SimMembershipSchema = z.object({
  id: z.number().int(),
  name: Nullable,
  member_since: z.string(),
})

export const SimUserSchema = z.object({
  id: z.number().int(),
  custom_id: Nullable,
  user_key: z.string(),
  email: Nullable,
  first_name: Nullable,
  last_name: Nullable,
  phone_number: Nullable,
  /** 1 unknown, 2 male, 3 female. */
  gender: z.number().int(),
  /** 1 visitor, 2 user. */
  status: z.number().int(),
  country: Nullable,
  region: Nullable,
  city: Nullable,
  timezone: Nullable,
  gravatar_url: Nullable,
  facebook_url: Nullable,
  linkedin_url: Nullable,
  twitter_url: Nullable,
  google_url: Nullable,
  unsubscribed: z.boolean(),
  notifications: z.boolean(),
  score: z.number().int(),
  /** Agent id (§2.8 "Allowed attributes"). */
  assigned_to: z.number().int().nullable(),
  tags: z.array(z.string()),
  companies: z.array(SimMembershipSchema),
  /** Custom attribute values by name_std. */
  attributes: z.record(z.string(), z.unknown()),
  page_views: z.number().int(),
  last_seen: Nullable,
  created_at: z.string(),
  updated_at: z.string(),
})
export type SimUser = z.infer<typeof SimUserSchema>

export const SimCompanySchema = z.object({
  id: z.number().int(),
  custom_id: Nullable,
  name: Nullable,
  description: Nullable,
  email: Nullable,
  size: z.number().int().nullable(),
  phone_numbers: z.array(z.string()),
  address: Nullable,
  city: Nullable,
  region: Nullable,
  country: Nullable,
  postal_code: Nullable,
  assigned_to: z.number().int().nullable(),
  tags: z.array(z.string()),
  attributes: z.record(z.string(), z.unknown()),
  /** Member user ids, in the order they joined. */
  members: z.array(z.number().int()),
  created_at: z.string(),
  updated_at: z.string(),
})
export type SimCompany = z.infer<typeof SimCompanySchema>

export const SimEventSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  name: z.string(),
  data: z.record(z.string(), z.unknown()),
  /** Unix seconds. */
  timestamp: z.number().int(),
})
export type SimEvent = z.infer<typeof SimEventSchema>

export const SimEventDefinitionSchema = z.object({
  name: z.string(),
  properties: z.array(z.string()),
  occurrences: z.number().int(),
})
export type SimEventDefinition = z.infer<typeof SimEventDefinitionSchema>

export const SimPageViewSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  client_user: z.string(),
  page_domain: z.string(),
  page_path: z.string(),
  /** ISO 8601 UTC. */
  timestamp: z.string(),
  page_title: z.string().optional(),
  referrer: z.string().optional(),
})
export type SimPageView = z.infer<typeof SimPageViewSchema>

/** One `POST /users/merge/` that took effect: who stayed, who was merged into it (and is gone). */
export const SimMergeSchema = z.object({
  parent: z.object({ id: z.number().int(), custom_id: Nullable }),
  merged: z.array(z.object({ id: z.number().int(), custom_id: Nullable })),
  /** ISO 8601 UTC. */
  at: z.string(),
})
export type SimMerge = z.infer<typeof SimMergeSchema>

/**
 * `"POST /events/"` → `{ "201": 3, "429": 1, "dropped": 2, "504-applied": 1 }`: by status, `dropped`
 * for a destroyed connection, a `-applied` suffix when the request took effect before its response
 * was replaced or dropped (a lost response). Unknown routes count under their raw method and path
 * (`"PUT /api/public/"`).
 */
export const RequestCountsSchema = z.record(z.string(), z.record(z.string(), z.number().int()))
export type RequestCounts = z.infer<typeof RequestCountsSchema>

/** How many of each record an app holds (events and page views: ever recorded). */
export const SimTotalsSchema = z.object({
  users: z.number().int(),
  companies: z.number().int(),
  events: z.number().int(),
  pageViews: z.number().int(),
  attributes: z.number().int(),
  /** `POST /users/merge/` calls that took effect. */
  merges: z.number().int(),
})
export type SimTotals = z.infer<typeof SimTotalsSchema>

export const SimAppStateSchema = z.object({
  totals: SimTotalsSchema,
  users: z.array(SimUserSchema),
  companies: z.array(SimCompanySchema),
  events: z.array(SimEventSchema),
  eventDefinitions: z.array(SimEventDefinitionSchema),
  pageViews: z.array(SimPageViewSchema),
  attributes: z.array(SimAttributeSchema),
  merges: z.array(SimMergeSchema),
  /** Requests made with this app's keys, by route template and status. */
  requests: RequestCountsSchema,
})
export type SimAppState = z.infer<typeof SimAppStateSchema>

export const SimStateSchema = z.object({
  apps: z.record(z.string(), SimAppStateSchema),
  /** Every API request, including those without a valid key and unknown routes (raw method and path). */
  requests: RequestCountsSchema,
  faults: FaultsSchema,
  pendingFailures: z.array(
    z.object({
      method: z.string(),
      route: z.string(),
      /** null: until `until` only. */
      remaining: z.number().int().nullable(),
      app: z.string().optional(),
      customId: z.string().optional(),
      /** ISO 8601 end of a `durationMs` rule. */
      until: z.string().optional(),
    }),
  ),
  /** Keys are shown by their last 4 characters only. */
  keys: z.array(z.object({ app: z.string(), hint: z.string(), revoked: z.boolean() })),
})
export type SimState = z.infer<typeof SimStateSchema>

/** `GET /__sim/summary`: totals and request counts only (cheap with large states). */
export const SimSummarySchema = z.object({
  apps: z.record(z.string(), z.object({ totals: SimTotalsSchema, requests: RequestCountsSchema })),
  requests: RequestCountsSchema,
})
export type SimSummary = z.infer<typeof SimSummarySchema>

/** Body of `POST /__sim/attributes`: seeds an app's catalog without counting requests. */
export const SeedAttributesSchema = z.object({
  app: z.string().min(1).default('default'),
  attributes: z.array(
    z.object({
      name: z.string().min(1),
      content_type: SimContentTypeSchema.default('clientuser'),
      value_type: SimValueTypeSchema.default('string'),
      choices: z.array(z.string()).optional(),
    }),
  ),
})
export type SeedAttributesInput = z.input<typeof SeedAttributesSchema>

/** One event occurrence as `GET /__sim/events` shows it: with the user's current custom id. */
export const SimEventRecordSchema = SimEventSchema.extend({ custom_id: Nullable })

/**
 * `GET /__sim/events?app=&custom_id=`: the occurrences kept (oldest first) and the duplicates among
 * them: occurrences of one user with the same name, timestamp and data (key order aside).
 */
export const SimEventReportSchema = z.object({
  app: z.string(),
  count: z.number().int(),
  events: z.array(SimEventRecordSchema),
  duplicates: z.array(
    SimEventRecordSchema.omit({ id: true }).extend({
      count: z.number().int(),
      ids: z.array(z.number().int()),
    }),
  ),
})
export type SimEventReport = z.infer<typeof SimEventReportSchema>
