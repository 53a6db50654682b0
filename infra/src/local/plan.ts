import { randomBytes } from 'node:crypto'

// Which User.com the local stack talks to, and the tenant settings the ingest and the workers get.
// Pure: the launcher writes the files and starts the processes.

export type StackEnv = Readonly<Record<string, string | undefined>>

/** The variables that name tenants: the single-tenant shorthand and the tenants file. */
export const TENANT_VARS = [
  'SEGMENT_WRITE_KEY',
  'SEGMENT_WEBHOOK_SECRET',
  'USERCOM_API_KEY',
  'USERCOM_APP_SUBDOMAIN',
  'USERCOM_BASE_URL',
  'TENANTS_FILE',
] as const

/** The two tenants of the simulator setup: one per simulator app, so the demo can revoke one key. */
export const SIM_TENANTS = [
  { id: 'acme', writeKey: 'wk_local_acme' },
  { id: 'globex', writeKey: 'wk_local_globex' },
] as const

export interface SimTenant {
  id: string
  writeKey: string
  /** The simulator app holding this tenant's data (same as the id). */
  app: string
  /** The tenant's User.com API key, which the simulator accepts for its app. */
  apiKey: string
  /** Segment Webhooks' shared secret (SEGMENT_WEBHOOK_SECRET, first tenant only). */
  webhookSecret?: string
}

export type TenantPlan =
  | {
      mode: 'simulator'
      tenants: SimTenant[]
      /** Written to the stack's TENANTS_FILE once the simulator's URL is known. */
      tenantsFile(baseUrl: string): string
      /** `SIM_KEYS` for the simulator: one key per app. */
      simKeys: string
      summary: string
    }
  | {
      mode: 'usercom'
      /** Tenant variables for the ingest and the workers (undefined: removed). */
      env: Record<string, string | undefined>
      summary: string
    }

const set = (value: string | undefined): string | undefined => (value?.trim() ? value : undefined)

/**
 * A real User.com when one is configured (TENANTS_FILE, or USERCOM_API_KEY with USERCOM_APP_SUBDOMAIN or
 * USERCOM_BASE_URL, or any of those three: @ucd/config then says what is missing), else the simulator with
 * two tenants, acme and globex. `random` makes keys (tests pass a fixed one).
 */
export function planTenants(
  env: StackEnv,
  random: () => string = () => randomBytes(12).toString('hex'),
): TenantPlan {
  if (set(env.TENANTS_FILE)) {
    return {
      mode: 'usercom',
      env: {},
      summary: `User.com: the tenants of TENANTS_FILE (${env.TENANTS_FILE}); no simulator`,
    }
  }
  if (set(env.USERCOM_API_KEY) || set(env.USERCOM_APP_SUBDOMAIN) || set(env.USERCOM_BASE_URL)) {
    const target =
      set(env.USERCOM_BASE_URL) ?? `https://${env.USERCOM_APP_SUBDOMAIN ?? '?'}.user.com/api/public/`
    return {
      mode: 'usercom',
      env: {
        SEGMENT_WRITE_KEY: set(env.SEGMENT_WRITE_KEY) ?? `wk_local_${random()}`,
        SEGMENT_WEBHOOK_SECRET: set(env.SEGMENT_WEBHOOK_SECRET),
      },
      summary: `User.com: ${target} (one tenant, "default"); no simulator`,
    }
  }
  const tenants: SimTenant[] = SIM_TENANTS.map((tenant, index) => ({
    id: tenant.id,
    // SEGMENT_WRITE_KEY, when set, is the first tenant's write key.
    writeKey: index === 0 ? (set(env.SEGMENT_WRITE_KEY) ?? tenant.writeKey) : tenant.writeKey,
    app: tenant.id,
    apiKey: `sim_${tenant.id}_${random()}`,
    ...(index === 0 && set(env.SEGMENT_WEBHOOK_SECRET) !== undefined
      ? { webhookSecret: set(env.SEGMENT_WEBHOOK_SECRET) }
      : {}),
  }))
  return {
    mode: 'simulator',
    tenants,
    tenantsFile: baseUrl =>
      `${JSON.stringify(
        tenants.map(t => ({
          id: t.id,
          writeKeys: [t.writeKey],
          usercom: { apiKey: t.apiKey, baseUrl },
          ...(t.webhookSecret === undefined ? {} : { webhookSecret: t.webhookSecret }),
        })),
        null,
        2,
      )}\n`,
    simKeys: tenants.map(t => `${t.apiKey}:${t.app}`).join(','),
    summary: `User.com simulator: tenants ${tenants.map(t => t.id).join(' and ')}, one simulator app each`,
  }
}

/** A host to reach a server on: a wildcard listen address is reached on loopback. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/** Quotes a value for a POSIX shell when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

/** `KEY=value KEY2=value2`, quoted for a shell. */
export function envLine(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([key, value]) => `${key}=${shellQuote(value)}`)
    .join(' ')
}

/** The curl line the launcher prints: a track with Basic auth (the write key as user name). */
export function curlLine(ingestUrl: string, writeKey: string): string {
  const body = JSON.stringify({ userId: 'user-1', event: 'Signed Up', properties: { plan: 'pro' } })
  return `curl -u ${shellQuote(`${writeKey}:`)} -H 'Content-Type: application/json' -d ${shellQuote(body)} ${ingestUrl}/v1/track`
}
