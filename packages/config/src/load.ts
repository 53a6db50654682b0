import { readFileSync } from 'node:fs'
import { z } from 'zod'
import {
  APP_SECTIONS,
  SECTIONS,
  TENANT,
  TenantSchema,
  TenantsFileSchema,
  WORKER,
  usercomBaseUrl,
  type AppName,
  type INGEST,
  type SHARED,
  type Section,
  type SectionName,
  type Tenant,
  type Values,
} from './schema'
import { redisTarget, shardingProblems, type RedisTarget } from './redis'
import { createTenantRegistry, type TenantRegistry } from './tenants'

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

/** The configuration of an app: every field typed by its variable's schema (schema.ts). */
export type Config = Values<typeof SHARED> & {
  /** Where Redis is: REDIS_CLUSTER_NODES' cluster when set, else REDIS_URL's server. */
  readonly redis: RedisTarget
  readonly ingest: Values<typeof INGEST>
  readonly worker: Values<typeof WORKER>
  readonly tenants: TenantRegistry
  /** Every write key and API key, for log scrubbing. */
  readonly secrets: readonly string[]
}

export interface LoadConfigOptions {
  /** Decides which variables are read (APP_SECTIONS) and which tenant settings are required. */
  app?: AppName
  /** Reads TENANTS_FILE; tests pass their own. */
  readFile?: (path: string) => string
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * A section's values: from `env` when the app reads the section (each problem, named by its variable,
 * added to `problems`; undefined when there is one), else its defaults.
 */
function readSection<S extends Section>(
  section: S,
  env: Env | undefined,
  problems: ConfigProblem[],
): Values<S> | undefined {
  const entries = Object.entries(section)
  const parsed = z.object(Object.fromEntries(entries.map(([, v]) => [v.name, v.schema]))).safeParse(env ?? {})
  if (!parsed.success) {
    problems.push(...issuesToProblems(parsed.error.issues))
    return undefined
  }
  const values: Record<string, unknown> = parsed.data
  return Object.fromEntries(entries.map(([field, v]) => [field, values[v.name]])) as Values<S>
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

/** The single-tenant shorthand: every tenant variable but TENANTS_FILE. */
const { file: _file, ...SINGLE_TENANT } = TENANT
type TenantValues = Values<typeof TENANT>

function singleTenant(env: TenantValues, app: AppName, problems: ConfigProblem[]): Tenant[] {
  const { writeKey, apiKey, webhookSecret, appSubdomain, baseUrl } = env
  const hasTarget = appSubdomain !== undefined || baseUrl !== undefined
  const needsWriteKey = app === 'ingest'
  const needsUsercom = app === 'worker'

  if (needsWriteKey && writeKey === undefined) {
    problems.push({
      variable: TENANT.writeKey.name,
      message: 'required: the write key Segment clients send (or list tenants in TENANTS_FILE)',
    })
  }
  if (apiKey === undefined && (needsUsercom || hasTarget)) {
    problems.push({
      variable: TENANT.apiKey.name,
      message: needsUsercom
        ? 'required: the User.com Public REST API key (or list tenants in TENANTS_FILE)'
        : 'required when USERCOM_APP_SUBDOMAIN or USERCOM_BASE_URL is set',
    })
  }
  if (webhookSecret !== undefined && writeKey === undefined) {
    problems.push({
      variable: TENANT.webhookSecret.name,
      message: 'needs SEGMENT_WRITE_KEY: the webhook route authenticates by write key first',
    })
  }
  if (apiKey !== undefined && !hasTarget) {
    problems.push({
      variable: TENANT.appSubdomain.name,
      message: 'set USERCOM_APP_SUBDOMAIN (https://<sub>.user.com/api/public/) or USERCOM_BASE_URL',
    })
  }
  if (writeKey === undefined && apiKey === undefined) return []
  const usercom = apiKey !== undefined && hasTarget ? { apiKey, baseUrl: usercomBaseUrl(env) } : undefined
  return [
    TenantSchema.parse({
      id: 'default',
      writeKeys: writeKey === undefined ? [] : [writeKey],
      webhookSecret,
      usercom,
    }),
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

/** The tenants of the tenant variables: TENANTS_FILE, or the single-tenant shorthand. */
function readTenants(
  env: Env,
  values: TenantValues,
  app: AppName,
  readFile: (path: string) => string,
  problems: ConfigProblem[],
): Tenant[] {
  if (values.file === undefined) {
    const tenants = singleTenant(values, app, problems)
    checkTenants(tenants, app, false, problems)
    return tenants
  }
  const singleVars = Object.values(SINGLE_TENANT)
    .map(v => v.name)
    .filter(name => (env[name]?.trim() ?? '') !== '')
  if (singleVars.length > 0) {
    problems.push({
      variable: TENANT.file.name,
      message: `set either TENANTS_FILE or the single-tenant variables (${singleVars.join(', ')}), not both`,
    })
  }
  const tenants = readTenantsFile(values.file, readFile, problems)
  checkTenants(tenants, app, true, problems)
  return tenants
}

/**
 * Parses the environment (and TENANTS_FILE) once: only the variables `app` reads (APP_SECTIONS).
 * Returns an immutable, typed Config, or throws a ConfigError listing every problem at once; no
 * message ever contains a secret's value.
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): Config {
  const app = options.app ?? 'any'
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const problems: ConfigProblem[] = []
  const reads = (name: SectionName) => (APP_SECTIONS[app].includes(name) ? env : undefined)

  // Every section is read even after another's problems, so one run reports them all.
  const shared = readSection(SECTIONS.shared, reads('shared'), problems)
  const ingest = readSection(SECTIONS.ingest, reads('ingest'), problems)
  const worker = readSection(SECTIONS.worker, reads('worker'), problems)
  const tenantValues = readSection(SECTIONS.tenant, reads('tenant'), problems)
  const tenants =
    tenantValues === undefined || reads('tenant') === undefined
      ? []
      : readTenants(env, tenantValues, app, readFile, problems)

  if (worker !== undefined && worker.retryBaseDelayMs > worker.retryMaxDelayMs) {
    problems.push({
      variable: WORKER.retryBaseDelayMs.name,
      message: `must not be larger than ${WORKER.retryMaxDelayMs.name}`,
    })
  }

  // Redis Cluster and queue shards (issue 19): the checks across QUEUE_PREFIX, QUEUE_SHARDS, WORKER_SHARDS.
  if (shared !== undefined) problems.push(...shardingProblems(shared, worker))

  if (problems.length > 0 || shared === undefined || ingest === undefined || worker === undefined)
    throw new ConfigError(problems)

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
    ...shared,
    redis: redisTarget(shared),
    ingest,
    worker,
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
