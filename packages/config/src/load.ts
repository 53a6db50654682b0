import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { EnvSchema, SECRET_VARS, TenantsFileSchema, usercomBaseUrl, type Env, type Tenant } from './schema'
import { createTenantRegistry, type TenantRegistry } from './tenants'

/** Which app is loading: decides which tenant settings are required. */
export type AppName = 'ingest' | 'worker' | 'admin' | 'any'

export interface ConfigProblem {
  /** The variable (or TENANTS_FILE path, e.g. `TENANTS_FILE[0].usercom.apiKey`). */
  variable: string
  /** Why it is wrong. Never contains the value. */
  message: string
}

export class ConfigError extends Error {
  readonly code = 'UCD_ERR_CONFIG'
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(formatConfigProblems(problems))
    this.name = 'ConfigError'
  }
}

export function formatConfigProblems(problems: readonly ConfigProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  return [`Invalid configuration (${count}):`, ...problems.map(p => `  - ${p.variable}: ${p.message}`)].join(
    '\n',
  )
}

export interface Config {
  readonly redisUrl: string
  readonly queuePrefix: string
  readonly logLevel: Env['LOG_LEVEL']
  /** undefined: decide by whether stdout is a TTY. */
  readonly logPretty: boolean | undefined
  readonly ingest: {
    readonly host: string
    readonly port: number
    readonly dedupeWindowMinutes: number
    readonly redisTimeoutMs: number
    /** Proxies whose X-Forwarded-For is believed (Fastify's trustProxy); false = none. */
    readonly trustProxy: Env['INGEST_TRUST_PROXY']
  }
  readonly worker: {
    readonly concurrency: number
    readonly usercomTimeoutMs: number
    /** Requests per second to User.com across all workers; undefined = unlimited. */
    readonly maxRps: number | undefined
    readonly maxSockets: number
    readonly retryWindowMinutes: number
    readonly retryBaseDelayMs: number
    readonly retryMaxDelayMs: number
    readonly maxStartedAttempts: number
    readonly drainTimeoutMs: number
    readonly lockDurationMs: number
    readonly stalledIntervalMs: number
    readonly identityCacheTtlSeconds: number
    readonly attributeCacheTtlSeconds: number
    readonly metricsHost: string
    readonly metricsPort: number
  }
  readonly tenants: TenantRegistry
  /** Every write key and API key, for log scrubbing. */
  readonly secrets: readonly string[]
}

export interface LoadConfigOptions {
  app?: AppName
  /** Reads TENANTS_FILE; tests pass their own. */
  readFile?: (path: string) => string
}

function issuesToProblems(issues: readonly z.core.$ZodIssue[], root?: string): ConfigProblem[] {
  return issues.map(issue => {
    let variable = root ?? ''
    for (const segment of issue.path) {
      if (typeof segment === 'number') variable += `[${segment}]`
      else variable += variable === '' ? String(segment) : `.${String(segment)}`
    }
    return { variable: variable || (root ?? '(config)'), message: issue.message }
  })
}

function readTenantsFile(
  path: string,
  readFile: (path: string) => string,
  problems: ConfigProblem[],
): Tenant[] {
  let text: string
  try {
    text = readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error'
    problems.push({ variable: 'TENANTS_FILE', message: `cannot read ${path} (${code})` })
    return []
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    // V8's message quotes the text around the error, which may hold a key: report the position only.
    const position = /position (\d+)/.exec((error as Error).message)?.[1]
    problems.push({
      variable: 'TENANTS_FILE',
      message: `${path} is not valid JSON${position ? ` (at character ${position})` : ''}`,
    })
    return []
  }
  const parsed = TenantsFileSchema.safeParse(json)
  if (!parsed.success) {
    problems.push(...issuesToProblems(parsed.error.issues, 'TENANTS_FILE'))
    return []
  }
  return parsed.data
}

/** The single-tenant shorthand's variables (the alternative to TENANTS_FILE). */
const SINGLE_TENANT_VARS = [
  'SEGMENT_WRITE_KEY',
  'SEGMENT_WEBHOOK_SECRET',
  'USERCOM_API_KEY',
  'USERCOM_APP_SUBDOMAIN',
  'USERCOM_BASE_URL',
] as const
type SingleTenantVar = (typeof SINGLE_TENANT_VARS)[number]
const SINGLE_TENANT_MASK = Object.fromEntries(SINGLE_TENANT_VARS.map(name => [name, true])) as Record<
  SingleTenantVar,
  true
>

function singleTenant(env: Pick<Env, SingleTenantVar>, app: AppName, problems: ConfigProblem[]): Tenant[] {
  const writeKey = env.SEGMENT_WRITE_KEY
  const apiKey = env.USERCOM_API_KEY
  const hasTarget = env.USERCOM_APP_SUBDOMAIN !== undefined || env.USERCOM_BASE_URL !== undefined
  const needsWriteKey = app === 'ingest'
  const needsUsercom = app === 'worker'

  if (needsWriteKey && writeKey === undefined) {
    problems.push({
      variable: 'SEGMENT_WRITE_KEY',
      message: 'required: the write key Segment clients send (or list tenants in TENANTS_FILE)',
    })
  }
  if (apiKey === undefined && (needsUsercom || hasTarget)) {
    problems.push({
      variable: 'USERCOM_API_KEY',
      message: needsUsercom
        ? 'required: the User.com Public REST API key (or list tenants in TENANTS_FILE)'
        : 'required when USERCOM_APP_SUBDOMAIN or USERCOM_BASE_URL is set',
    })
  }
  if (env.SEGMENT_WEBHOOK_SECRET !== undefined && writeKey === undefined) {
    problems.push({
      variable: 'SEGMENT_WEBHOOK_SECRET',
      message: 'needs SEGMENT_WRITE_KEY: the webhook route authenticates by write key first',
    })
  }
  if (apiKey !== undefined && !hasTarget) {
    problems.push({
      variable: 'USERCOM_APP_SUBDOMAIN',
      message: 'set USERCOM_APP_SUBDOMAIN (https://<sub>.user.com/api/public/) or USERCOM_BASE_URL',
    })
  }
  if (writeKey === undefined && apiKey === undefined) return []
  return [
    {
      id: 'default',
      writeKeys: writeKey === undefined ? [] : [writeKey],
      webhookSecret: env.SEGMENT_WEBHOOK_SECRET,
      usercom:
        apiKey !== undefined && hasTarget
          ? {
              apiKey,
              baseUrl: usercomBaseUrl({
                appSubdomain: env.USERCOM_APP_SUBDOMAIN,
                baseUrl: env.USERCOM_BASE_URL,
              }),
            }
          : undefined,
      maxRequestsPerSecond: undefined,
    },
  ]
}

function checkTenants(
  tenants: readonly Tenant[],
  app: AppName,
  fromFile: boolean,
  problems: ConfigProblem[],
): void {
  const where = (index: number) => (fromFile ? `TENANTS_FILE[${index}]` : 'tenant "default"')
  const ids = new Set<string>()
  const keys = new Map<string, string>()
  tenants.forEach((tenant, index) => {
    if (ids.has(tenant.id))
      problems.push({ variable: `${where(index)}.id`, message: `duplicate tenant id "${tenant.id}"` })
    ids.add(tenant.id)
    tenant.writeKeys.forEach((key, k) => {
      const owner = keys.get(key)
      if (owner !== undefined) {
        problems.push({
          variable: `${where(index)}.writeKeys[${k}]`,
          message: `this write key is also used by tenant "${owner}"; a write key must name one tenant`,
        })
      }
      keys.set(key, tenant.id)
    })
  })
  if (!fromFile) return
  if (tenants.length === 0) problems.push({ variable: 'TENANTS_FILE', message: 'lists no tenants' })
  if (app === 'ingest' && tenants.length > 0 && keys.size === 0) {
    problems.push({
      variable: 'TENANTS_FILE',
      message: 'no tenant has a write key, so the ingest would accept nothing',
    })
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

/**
 * Parses the environment (and TENANTS_FILE) once. Returns an immutable, typed Config, or throws a
 * ConfigError listing every problem at once; no message ever contains a secret's value.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Config {
  const app = options.app ?? 'any'
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const problems: ConfigProblem[] = []

  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) problems.push(...issuesToProblems(parsed.error.issues))
  // Keep going after env problems, so the tenants file's problems are reported in the same run.
  let tenants: Tenant[] = []
  const tenantsFile = env.TENANTS_FILE?.trim()
  const singleVars = SINGLE_TENANT_VARS.filter(name => (env[name]?.trim() ?? '') !== '')
  if (tenantsFile) {
    if (singleVars.length > 0) {
      problems.push({
        variable: 'TENANTS_FILE',
        message: `set either TENANTS_FILE or the single-tenant variables (${singleVars.join(', ')}), not both`,
      })
    }
    tenants = readTenantsFile(tenantsFile, readFile, problems)
    checkTenants(tenants, app, true, problems)
  } else {
    // Checked even when other variables are invalid, so every problem is reported in one run.
    const tenantVars = EnvSchema.pick(SINGLE_TENANT_MASK).safeParse(env)
    if (tenantVars.success) {
      tenants = singleTenant(tenantVars.data, app, problems)
      checkTenants(tenants, app, false, problems)
    }
  }

  if (parsed.success && parsed.data.RETRY_BASE_DELAY_MS > parsed.data.RETRY_MAX_DELAY_MS) {
    problems.push({ variable: 'RETRY_BASE_DELAY_MS', message: 'must not be larger than RETRY_MAX_DELAY_MS' })
  }

  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)
  const e = parsed.data

  const secrets = [
    ...new Set(
      tenants.flatMap(t => [
        ...t.writeKeys,
        ...(t.usercom ? [t.usercom.apiKey] : []),
        ...(t.webhookSecret === undefined ? [] : [t.webhookSecret]),
      ]),
    ),
  ]
  const config: Config = {
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    ingest: {
      host: e.INGEST_HOST,
      port: e.INGEST_PORT,
      dedupeWindowMinutes: e.DEDUPE_WINDOW_MINUTES,
      redisTimeoutMs: e.INGEST_REDIS_TIMEOUT_MS,
      trustProxy: e.INGEST_TRUST_PROXY,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      usercomTimeoutMs: e.USERCOM_TIMEOUT_MS,
      maxRps: e.USERCOM_MAX_RPS,
      maxSockets: e.USERCOM_MAX_SOCKETS,
      retryWindowMinutes: e.RETRY_WINDOW_MINUTES,
      retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
      retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
      maxStartedAttempts: e.WORKER_MAX_STARTED_ATTEMPTS,
      drainTimeoutMs: e.WORKER_DRAIN_TIMEOUT_MS,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      identityCacheTtlSeconds: e.IDENTITY_CACHE_TTL_SECONDS,
      attributeCacheTtlSeconds: e.ATTRIBUTE_CACHE_TTL_SECONDS,
      metricsHost: e.METRICS_HOST,
      metricsPort: e.METRICS_PORT,
    },
    tenants: createTenantRegistry(tenants),
    secrets,
  }
  return deepFreeze(config)
}

export interface ExitOptions {
  stderr?: { write(text: string): unknown }
  exit?: (code: number) => never
}

/** For main.ts: loadConfig, or print every problem and exit 1. */
export function loadConfigOrExit(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions & ExitOptions = {},
): Config {
  try {
    return loadConfig(env, options)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const stderr = options.stderr ?? process.stderr
    const exit = options.exit ?? ((code: number) => process.exit(code))
    stderr.write(`${error.message}\nSee README.md "Configuration" for every variable.\n`)
    return exit(1)
  }
}

export { SECRET_VARS }
