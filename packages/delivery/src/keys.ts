import { createHash } from 'node:crypto'

// Every Redis key this package owns is made here, and only here: when Redis Cluster comes (issue 19),
// per-user keys must carry the user's shard hash tag, and that change belongs in `userKey` alone.

/**
 * What a per-tenant key holds: `catalog` is the tenant's attribute catalog; `catalog-fetch` the stamp
 * that bounds catalog fetches (one per tenant per few seconds, across processes); `pause` the tenant's
 * 429 pause (TTL = Retry-After); `attribute-budget` the attributes created in the current hour window.
 */
export type TenantKeyKind = 'catalog' | 'catalog-fetch' | 'pause' | 'attribute-budget'

/**
/**
 * What a per-user key holds: `id` is the identity cache entry (`{ id, user_key? }`), `clock` the hash of
 * per-field clocks (field → `<eventTimeMs>:<messageId>`), `lock` the user's consistency lock (owner token),
 * `anon` an anonymous visitor's identity state (a hash: the userId it maps to, whether this product made a
 * user from its anonymous calls, the merge state, leases of its deliveries in flight; identity/visitors.ts).
 */
export type UserKeyKind = 'id' | 'clock' | 'lock' | 'anon'

/** What a per-company key holds: `clock` and `lock` as for a user. */
export type CompanyKeyKind = 'clock' | 'lock'

/** `<base>:<tenantId>:<kind>`, e.g. `ucd:acme:catalog`. */
export function tenantKey(base: string, tenantId: string, kind: TenantKeyKind): string {
  return `${base}:${tenantId}:${kind}`
}

/**
 * `<base>:<tenantId>:<kind>:<hash>`, e.g. `ucd:acme:id:3f2a…`: the hash is the first 40 hex digits of
 * sha256(custom id), never the custom id itself (it may be an email).
 */
export function userKey(base: string, tenantId: string, customId: string, kind: UserKeyKind): string {
  return `${base}:${tenantId}:${kind}:${idHash(customId)}`
}

/**
 * `<base>:<tenantId>:company:<kind>:<hash>`, e.g. `ucd:acme:company:clock:9b1c…`: the hash of the
 * company's custom id, as for users.
 */
export function companyKey(
  base: string,
  tenantId: string,
  companyCustomId: string,
  kind: CompanyKeyKind,
): string {
  return `${base}:${tenantId}:company:${kind}:${idHash(companyCustomId)}`
}

function idHash(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 40)
}
