import { z } from 'zod'
import { FaultsSchema, SimKeySchema, SimOptionsSchema, type SimOptions } from './schema'

// Standalone configuration: SIM_* environment variables, each also accepted as a flag
// (`--latency-ms 50` or `--latency-ms=50` for SIM_LATENCY_MS; flags win over env).

const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value

const int = (min: number, max: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).optional())
const num = (min: number, max: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().min(min).max(max).optional())
const str = () => z.preprocess(blankToUndefined, z.string().optional())

export const SimEnvSchema = z.object({
  SIM_HOST: str(),
  SIM_PORT: int(0, 65535),
  /** `key:app,key2:app2`; a key without `:app` belongs to app `default`. */
  SIM_KEYS: str(),
  /** Keys (from SIM_KEYS) that start revoked: `key,key2`. */
  SIM_REVOKED_KEYS: str(),
  SIM_BASE_PATH: str(),
  SIM_SEED: int(-2_147_483_648, 4_294_967_295),
  SIM_PAGE_SIZE: int(1, 10_000),
  SIM_EVENT_PAGE_SIZE: int(1, 10_000),
  SIM_MAX_STORED_RECORDS: int(1, 100_000_000),
  SIM_LATENCY_MS: int(0, 600_000),
  SIM_JITTER_MS: int(0, 600_000),
  SIM_ERROR_RATE: num(0, 1),
  SIM_ERROR_STATUS: int(500, 599),
  SIM_DROP_RATE: num(0, 1),
  SIM_LOST_RESPONSE_RATE: num(0, 1),
  SIM_RATE_LIMIT_RPS: num(0.001, 1_000_000),
  SIM_RATE_LIMIT_BURST: int(1, 1_000_000),
  SIM_RETRY_AFTER: int(0, 86_400),
  SIM_RETRY_AFTER_FORMAT: z.preprocess(blankToUndefined, z.enum(['seconds', 'http-date', 'none']).optional()),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  LOG_PRETTY: z.preprocess(blankToUndefined, z.stringbool().optional()),
})

export interface SimStartConfig {
  host: string
  port: number
  options: SimOptions
  logLevel: z.infer<typeof SimEnvSchema>['LOG_LEVEL']
  logPretty: boolean | undefined
}

export type SimEnvResult = { ok: true; config: SimStartConfig } | { ok: false; problems: string[] }

const DEFAULT_KEYS = 'sim-api-key:default'

/** `--latency-ms=5 --keys a:x` → `{ SIM_LATENCY_MS: '5', SIM_KEYS: 'a:x' }`; unknown shapes are problems. */
export function flagsToEnv(argv: readonly string[], problems: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? ''
    if (arg === '--') continue
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg)
    if (!m) {
      problems.push(`unexpected argument "${arg}" (flags look like --latency-ms=50)`)
      continue
    }
    let value = m[2]
    if (value === undefined) {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) {
        problems.push(`--${m[1]} needs a value`)
        continue
      }
      value = next
      i += 1
    }
    const name = (m[1] ?? '').replace(/-/g, '_').toUpperCase()
    out[name.startsWith('LOG_') ? name : `SIM_${name}`] = value
  }
  return out
}

/** Parses SIM_* env and flags into the simulator's start configuration, naming every problem. */
export function parseSimEnv(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): SimEnvResult {
  const problems: string[] = []
  const merged = { ...env, ...flagsToEnv(argv, problems) }
  const parsed = SimEnvSchema.safeParse(merged)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`)
    return { ok: false, problems }
  }
  const e = parsed.data
  const revoked = new Set(
    (e.SIM_REVOKED_KEYS ?? '')
      .split(',')
      .map(s => s.trim())
      .filter(Boolean),
  )
  const keys = (e.SIM_KEYS ?? DEFAULT_KEYS)
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
    .map(entry => {
      const at = entry.lastIndexOf(':')
      const key = at > 0 ? entry.slice(0, at) : entry
      const app = at > 0 ? entry.slice(at + 1) : 'default'
      return SimKeySchema.safeParse({ key, app, revoked: revoked.has(key) })
    })
  const keyList = []
  for (const k of keys) {
    if (k.success) keyList.push(k.data)
    else problems.push('SIM_KEYS: every entry must be "key" or "key:app", both non-empty')
  }
  if (keyList.length === 0) problems.push('SIM_KEYS: needs at least one key')
  const faults = FaultsSchema.safeParse({
    latencyMs: e.SIM_LATENCY_MS,
    jitterMs: e.SIM_JITTER_MS,
    errorRate: e.SIM_ERROR_RATE,
    errorStatus: e.SIM_ERROR_STATUS,
    dropRate: e.SIM_DROP_RATE,
    lostResponseRate: e.SIM_LOST_RESPONSE_RATE,
    rateLimitRps: e.SIM_RATE_LIMIT_RPS,
    rateLimitBurst: e.SIM_RATE_LIMIT_BURST,
    retryAfterSeconds: e.SIM_RETRY_AFTER,
    retryAfterFormat: e.SIM_RETRY_AFTER_FORMAT,
  })
  if (!faults.success)
    problems.push(...faults.error.issues.map(i => `faults.${i.path.join('.')}: ${i.message}`))
  const options = SimOptionsSchema.safeParse({
    keys: keyList,
    basePath: e.SIM_BASE_PATH,
    seed: e.SIM_SEED,
    pageSize: e.SIM_PAGE_SIZE,
    eventPageSize: e.SIM_EVENT_PAGE_SIZE,
    maxStoredRecords: e.SIM_MAX_STORED_RECORDS,
    faults: faults.success ? faults.data : undefined,
  })
  if (!options.success)
    problems.push(
      ...options.error.issues.map(
        i =>
          `SIM_${String(i.path[0])
            .replace(/[A-Z]/g, c => `_${c}`)
            .toUpperCase()}: ${i.message}`,
      ),
    )
  if (problems.length > 0 || !options.success) return { ok: false, problems }
  return {
    ok: true,
    config: {
      host: e.SIM_HOST ?? '127.0.0.1',
      port: e.SIM_PORT ?? 4010,
      options: options.data,
      logLevel: e.LOG_LEVEL,
      logPretty: e.LOG_PRETTY,
    },
  }
}
