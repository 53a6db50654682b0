import { z } from 'zod'
import {
  boolVar,
  intVar,
  logLevelVar,
  numberVar,
  optionalNumberVar,
  secretVar,
  stringVar,
  trustProxyVar,
  urlVar,
} from './vars'

/** A User.com app subdomain: the "acme" of acme.user.com. */
const APP_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i

/** Every environment variable the apps read. design.md's Configuration table, plus the documented extras. */
export const EnvSchema = z.object({
  // all apps
  REDIS_URL: urlVar({ protocols: ['redis:', 'rediss:'], default: 'redis://127.0.0.1:6379' }),
  QUEUE_PREFIX: stringVar({
    default: 'ucd',
    pattern: /^(\{[A-Za-z0-9_-]{1,40}\}|[A-Za-z0-9_-]{1,40})$/,
    patternMessage: 'must be 1-40 letters, digits, "-" or "_", optionally wrapped in {} for Redis Cluster',
  }),
  LOG_LEVEL: logLevelVar(),
  LOG_PRETTY: boolVar(),
  // ingest
  INGEST_HOST: stringVar({ default: '0.0.0.0' }),
  INGEST_PORT: intVar({ min: 0, max: 65535, default: 8080 }),
  DEDUPE_WINDOW_MINUTES: intVar({ min: 0, max: 60 * 24 * 30, default: 1440 }),
  INGEST_REDIS_TIMEOUT_MS: intVar({ min: 50, max: 60_000, default: 800 }),
  INGEST_TRUST_PROXY: trustProxyVar(),
  // tenants: single-tenant shorthand, or a file
  SEGMENT_WRITE_KEY: secretVar(),
  SEGMENT_WEBHOOK_SECRET: secretVar(),
  USERCOM_API_KEY: secretVar(),
  USERCOM_APP_SUBDOMAIN: stringVar({
    pattern: APP_SUBDOMAIN,
    patternMessage: 'must be the app subdomain only (letters, digits, "-"), e.g. "acme" for acme.user.com',
  }),
  USERCOM_BASE_URL: urlVar({ protocols: ['http:', 'https:'] }),
  TENANTS_FILE: stringVar(),
  // worker
  WORKER_CONCURRENCY: intVar({ min: 1, max: 2000, default: 50 }),
  USERCOM_TIMEOUT_MS: intVar({ min: 100, max: 300_000, default: 10_000 }),
  USERCOM_MAX_RPS: optionalNumberVar({ min: 0, max: 1_000_000, exclusiveMin: true }),
  USERCOM_MAX_SOCKETS: intVar({ min: 1, max: 10_000, default: 256 }),
  RETRY_WINDOW_MINUTES: numberVar({ min: 0, max: 60 * 24 * 30, exclusiveMin: true, default: 240 }),
  RETRY_BASE_DELAY_MS: intVar({ min: 1, max: 3_600_000, default: 1000 }),
  RETRY_MAX_DELAY_MS: intVar({ min: 1, max: 86_400_000, default: 300_000 }),
  WORKER_MAX_STARTED_ATTEMPTS: intVar({ min: 1, max: 1_000_000, default: 10_000 }),
  WORKER_DRAIN_TIMEOUT_MS: intVar({ min: 0, max: 3_600_000, default: 25_000 }),
  WORKER_LOCK_DURATION_MS: intVar({ min: 1000, max: 3_600_000, default: 30_000 }),
  WORKER_STALLED_INTERVAL_MS: intVar({ min: 500, max: 3_600_000, default: 30_000 }),
  IDENTITY_CACHE_TTL_SECONDS: intVar({ min: 1, max: 30 * 86_400, default: 86_400 }),
  ATTRIBUTE_CACHE_TTL_SECONDS: intVar({ min: 1, max: 86_400, default: 300 }),
  METRICS_HOST: stringVar({ default: '0.0.0.0' }),
  METRICS_PORT: intVar({ min: 0, max: 65535, default: 9464 }),
})
export type Env = z.output<typeof EnvSchema>

/** Variables whose values are secrets: never printed, never logged. */
export const SECRET_VARS = ['SEGMENT_WRITE_KEY', 'SEGMENT_WEBHOOK_SECRET', 'USERCOM_API_KEY'] as const

const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/

/** One entry of TENANTS_FILE, as written in the file. */
export const TenantFileEntrySchema = z
  .strictObject({
    id: z.string({ error: 'required, a string' }).regex(TENANT_ID, {
      error: 'must be 1-64 letters, digits, "-" or "_"',
    }),
    writeKeys: z
      .array(z.string({ error: 'must be a string' }).trim().min(1, { error: 'must not be empty' }), {
        error: 'must be a list of strings',
      })
      .default([]),
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
      }),
    maxRequestsPerSecond: z
      .number({ error: 'must be a number' })
      .positive({ error: 'must be greater than 0' })
      .optional(),
    webhookSecret: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, { error: 'must not be empty' })
      .optional(),
  })
  .transform(entry => ({
    id: entry.id,
    writeKeys: entry.writeKeys,
    webhookSecret: entry.webhookSecret,
    usercom: {
      apiKey: entry.usercom.apiKey,
      baseUrl: usercomBaseUrl(entry.usercom),
    },
    maxRequestsPerSecond: entry.maxRequestsPerSecond,
  }))

export const TenantsFileSchema = z.array(TenantFileEntrySchema, {
  error: 'must be a JSON list of tenants [{ id, writeKeys, usercom: { apiKey, appSubdomain | baseUrl } }]',
})

/** A tenant as the apps see it: the User.com side is absent only for an ingest-only single tenant. */
export const TenantSchema = z.object({
  id: z.string().regex(TENANT_ID),
  writeKeys: z.array(z.string()),
  /** Segment Webhooks' shared secret: when set, /v1/webhook requests must carry a valid X-Signature. */
  webhookSecret: z.string().optional(),
  usercom: z.object({ apiKey: z.string(), baseUrl: z.string() }).optional(),
  maxRequestsPerSecond: z.number().positive().optional(),
})
export type Tenant = z.infer<typeof TenantSchema>

/** `https://<sub>.user.com/api/public/`, or the given base URL, always with one trailing slash. */
export function usercomBaseUrl(source: {
  appSubdomain?: string | undefined
  baseUrl?: string | undefined
}): string {
  const base = source.baseUrl ?? `https://${source.appSubdomain ?? ''}.user.com/api/public/`
  return base.endsWith('/') ? base : `${base}/`
}
