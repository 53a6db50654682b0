import { z } from 'zod'
import { MAX_QUEUE_SHARDS, clusterSeeds, shardList } from './redis'
import { bool, int, logLevel, number, text, trustProxy, url, variable, type Variable } from './vars'

// Every environment variable, declared once: its name, its schema (kind, limits, default) and the
// field of Config it becomes. Grouped by what reads it; APP_SECTIONS says which groups each app reads.
// The README's Configuration table lists the same variables for people.

/** A User.com app subdomain: the "acme" of acme.user.com. */
const APP_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i

/** Every app. */
export const SHARED = {
  redisUrl: variable('REDIS_URL', url('redis', 'rediss').default('redis://127.0.0.1:6379')),
  queuePrefix: variable(
    'QUEUE_PREFIX',
    text({
      regex: /^(\{[A-Za-z0-9_-]{1,40}\}|[A-Za-z0-9_-]{1,40})$/,
      message: 'must be 1-40 letters, digits, "-" or "_", optionally wrapped in {} for Redis Cluster',
    }).default('ucd'),
  ),
  logLevel: variable('LOG_LEVEL', logLevel().default('info')),
  /** undefined: decide by whether stdout is a TTY. */
  logPretty: variable('LOG_PRETTY', bool().optional()),
  /** A Redis Cluster's seed nodes; when set, it takes the place of REDIS_URL (`config.redis`). */
  redisClusterNodes: variable('REDIS_CLUSTER_NODES', clusterSeeds().optional()),
  /** Event (and dead-letter) queues, each under its own hash tag; 1 keeps the unsharded key names. */
  queueShards: variable('QUEUE_SHARDS', int(1, MAX_QUEUE_SHARDS).default(1)),
}

export const INGEST = {
  host: variable('INGEST_HOST', text().default('0.0.0.0')),
  port: variable('INGEST_PORT', int(0, 65535).default(8080)),
  dedupeWindowMinutes: variable('DEDUPE_WINDOW_MINUTES', int(0, 60 * 24 * 30).default(1440)),
  redisTimeoutMs: variable('INGEST_REDIS_TIMEOUT_MS', int(50, 60_000).default(800)),
  /** Proxies whose X-Forwarded-For is believed (Fastify's trustProxy); false = none. */
  trustProxy: variable('INGEST_TRUST_PROXY', trustProxy().default(false)),
  /** How long concurrent requests' events are gathered into one Redis flush per shard; 0 = off. */
  lingerMs: variable('INGEST_LINGER_MS', int(0, 1000).default(2)),
  /** A flush starts at once when this many events wait for one shard. */
  lingerMaxEvents: variable('INGEST_LINGER_MAX_EVENTS', int(1, 100_000).default(500)),
  /** Items a batch request may hold (/v1/batch, /v1/import, /v1/b, /v1/webhook); more answers 400. */
  maxBatchItems: variable('INGEST_MAX_BATCH_ITEMS', int(1, 100_000).default(2500)),
  /** The ingest's /metrics, on its own port (not the public one): the ingest's METRICS_HOST/METRICS_PORT. */
  metricsHost: variable('INGEST_METRICS_HOST', text().default('0.0.0.0')),
  metricsPort: variable('INGEST_METRICS_PORT', int(0, 65535).default(9463)),
  /** From this % of Redis maxmemory on, the ingest answers 503 (the rest is the workers' headroom); 100 = off. */
  redisMemoryHighPercent: variable('INGEST_REDIS_MEMORY_HIGH_PERCENT', int(1, 100).default(90)),
}

export const WORKER = {
  concurrency: variable('WORKER_CONCURRENCY', int(1, 2000).default(50)),
  usercomTimeoutMs: variable('USERCOM_TIMEOUT_MS', int(100, 300_000).default(10_000)),
  /** Requests per second to User.com across all workers; undefined = unlimited. */
  maxRps: variable('USERCOM_MAX_RPS', number(0, 1_000_000).optional()),
  maxSockets: variable('USERCOM_MAX_SOCKETS', int(1, 10_000).default(256)),
  retryWindowMinutes: variable('RETRY_WINDOW_MINUTES', number(0, 60 * 24 * 30).default(240)),
  retryBaseDelayMs: variable('RETRY_BASE_DELAY_MS', int(1, 3_600_000).default(1000)),
  retryMaxDelayMs: variable('RETRY_MAX_DELAY_MS', int(1, 86_400_000).default(300_000)),
  /**
   * How long a dead-letter record may wait for a replay: the field clocks (per-user consistency) live
   * the retry window plus this, so a replay within it never overwrites newer values.
   */
  dlqRetentionDays: variable('DLQ_RETENTION_DAYS', int(1, 3650).default(30)),
  /** Per-user consistency (field clocks, locks); `false` only for the benchmark's on/off comparison. */
  consistency: variable('WORKER_CONSISTENCY', bool().default(true)),
  maxStartedAttempts: variable('WORKER_MAX_STARTED_ATTEMPTS', int(1, 1_000_000).default(10_000)),
  drainTimeoutMs: variable('WORKER_DRAIN_TIMEOUT_MS', int(0, 3_600_000).default(25_000)),
  lockDurationMs: variable('WORKER_LOCK_DURATION_MS', int(1000, 3_600_000).default(30_000)),
  stalledIntervalMs: variable('WORKER_STALLED_INTERVAL_MS', int(500, 3_600_000).default(30_000)),
  identityCacheTtlSeconds: variable('IDENTITY_CACHE_TTL_SECONDS', int(1, 30 * 86_400).default(86_400)),
  /** How long an anonymousId → userId mapping (and the anonymous visitor's merge state) is kept. */
  identityMappingTtlSeconds: variable(
    'IDENTITY_MAPPING_TTL_SECONDS',
    int(60, 365 * 86_400).default(30 * 86_400),
  ),
  attributeCacheTtlSeconds: variable('ATTRIBUTE_CACHE_TTL_SECONDS', int(1, 86_400).default(300)),
  metricsHost: variable('METRICS_HOST', text().default('0.0.0.0')),
  metricsPort: variable('METRICS_PORT', int(0, 65535).default(9464)),
  /** The shards this worker consumes; undefined = every shard. */
  shards: variable('WORKER_SHARDS', shardList().optional()),
}

/** Where the tenants come from: TENANTS_FILE, or the single-tenant shorthand (the other five). */
export const TENANT = {
  writeKey: variable('SEGMENT_WRITE_KEY', z.string().optional(), { secret: true }),
  webhookSecret: variable('SEGMENT_WEBHOOK_SECRET', z.string().optional(), { secret: true }),
  apiKey: variable('USERCOM_API_KEY', z.string().optional(), { secret: true }),
  appSubdomain: variable(
    'USERCOM_APP_SUBDOMAIN',
    text({
      regex: APP_SUBDOMAIN,
      message: 'must be the app subdomain only (letters, digits, "-"), e.g. "acme" for acme.user.com',
    }).optional(),
  ),
  baseUrl: variable('USERCOM_BASE_URL', url('http', 'https').optional()),
  file: variable('TENANTS_FILE', text().optional()),
}

/** A group of variables: Config field → variable. */
export type Section = Record<string, Variable>
/** A group's values, typed by their schemas. */
export type Values<S extends Section> = { readonly [K in keyof S]: z.output<S[K]['schema']> }

export const SECTIONS = { shared: SHARED, ingest: INGEST, worker: WORKER, tenant: TENANT }
export type SectionName = keyof typeof SECTIONS

/** Which app is loading. `any` reads every variable. */
export type AppName = 'ingest' | 'worker' | 'admin' | 'any'

/**
 * The variables each app reads, and so validates: a bad WORKER_CONCURRENCY does not stop the ingest.
 * A group an app does not read keeps its defaults in that app's Config.
 */
export const APP_SECTIONS: Readonly<Record<AppName, readonly SectionName[]>> = {
  ingest: ['shared', 'ingest', 'tenant'],
  worker: ['shared', 'worker', 'tenant'],
  admin: ['shared'],
  any: ['shared', 'ingest', 'worker', 'tenant'],
}

const ALL_VARIABLES = Object.values<Section>(SECTIONS).flatMap(section => Object.values(section))

/** Variables whose values are secrets: never printed, never logged. */
export const SECRET_VARS: readonly string[] = ALL_VARIABLES.filter(v => v.secret).map(v => v.name)

// ---------------------------------------------------------------------------------------------------------
// Tenants

const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/
const TenantId = z
  .string({ error: 'required, a string' })
  .regex(TENANT_ID, { error: 'must be 1-64 letters, digits, "-" or "_"' })

/** A tenant's settings besides its id and User.com account, as TENANTS_FILE writes them: one line each. */
const TENANT_SETTINGS = {
  writeKeys: z
    .array(z.string({ error: 'must be a string' }).trim().min(1, { error: 'must not be empty' }), {
      error: 'must be a list of strings',
    })
    .default([]),
  /** Segment Webhooks' shared secret: when set, /v1/webhook requests must carry a valid X-Signature. */
  webhookSecret: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .optional(),
  maxRequestsPerSecond: z
    .number({ error: 'must be a number' })
    .positive({ error: 'must be greater than 0' })
    .optional(),
  /** The site of page calls that carry only a path (server-side `page`): an origin, e.g. https://www.example.com. */
  pageDomain: z
    .url({ protocol: /^https?$/, error: 'must be an origin such as https://www.example.com' })
    .refine(isOrigin, { error: 'must be an origin (scheme, host, port): no path, query or credentials' })
    .transform(url => new URL(url).origin)
    .optional(),
  /** `event`: screen calls become event occurrences (`Viewed <name> Screen`); `off` (default): not delivered. */
  screens: z.enum(['off', 'event'], { error: 'must be "event" or "off"' }).default('off'),
  /**
   * Anonymous → identified merge (and alias): an event with both ids merges the user this product created
   * from the anonymousId's anonymous calls into the userId's user, once. Merges cannot be undone.
   */
  mergeAnonymous: z.boolean({ error: 'must be true or false' }).default(true),
  /** New User.com attributes this tenant's events may create per hour window, across workers; beyond: dropped. */
  newAttributesPerHour: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .nonnegative({ error: 'must be 0 or more' })
    .default(50),
}

/** An origin: `https://host[:port]` and nothing else (a trailing `/` is allowed). */
function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false
  const url = new URL(text)
  return (
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    (url.pathname === '/' || url.pathname === '')
  )
}

/** The User.com account of a tenant, as the apps use it. */
const UsercomAccountSchema = z.object({ apiKey: z.string(), baseUrl: z.string() })

/** One entry of TENANTS_FILE, as written in the file. */
export const TenantFileEntrySchema = z.strictObject({
  id: TenantId,
  usercom: z
    .strictObject(
      {
        apiKey: z.string({ error: 'required, a string' }).trim().min(1, { error: 'must not be empty' }),
        appSubdomain: z
          .string({ error: 'must be a string' })
          .regex(APP_SUBDOMAIN, { error: 'must be the app subdomain only' })
          .optional(),
        baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
      },
      { error: 'required, an object { apiKey, appSubdomain or baseUrl }' },
    )
    .refine(u => u.appSubdomain !== undefined || u.baseUrl !== undefined, {
      error: 'needs appSubdomain or baseUrl',
    })
    .transform(u => ({ apiKey: u.apiKey, baseUrl: usercomBaseUrl(u) })),
  ...TENANT_SETTINGS,
})

export const TenantsFileSchema = z.array(TenantFileEntrySchema, {
  error: 'must be a JSON list of tenants [{ id, writeKeys, usercom: { apiKey, appSubdomain | baseUrl } }]',
})

/** A tenant as the apps see it: the User.com side is absent only for an ingest-only single tenant. */
export const TenantSchema = z.object({
  id: TenantId,
  usercom: UsercomAccountSchema.optional(),
  ...TENANT_SETTINGS,
})
export type Tenant = z.output<typeof TenantSchema>

/** `https://<sub>.user.com/api/public/`, or the given base URL, always with one trailing slash. */
export function usercomBaseUrl(source: {
  appSubdomain?: string | undefined
  baseUrl?: string | undefined
}): string {
  const base = source.baseUrl ?? `https://${source.appSubdomain ?? ''}.user.com/api/public/`
  return base.endsWith('/') ? base : `${base}/`
}
