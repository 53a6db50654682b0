import { createHash } from 'node:crypto'
import { shardOf, shardPrefix } from '@ucd/queue'

// Every Redis key this package owns is made here, and only here. On Redis Cluster with sharded event
// queues (QUEUE_SHARDS > 1, issue 19) a per-user key carries the hash tag of the user's shard, so one
// user's keys (identity cache, locks, clocks, identity entries) share the slot of the user's events and
// a multi-key script over them works; with one shard every key is what it always was.

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

/**
 * Where the keys live: QUEUE_PREFIX and QUEUE_SHARDS (`{ prefix: config.queuePrefix, shards:
 * config.queueShards }`). A plain string is a prefix with one shard (today's key names).
 */
export interface KeySpace {
  readonly prefix: string
  readonly shards: number
}
export type KeyBase = string | KeySpace

/** The key space of a base: a string is one shard. */
export function keySpaceOf(base: KeyBase): KeySpace {
  return typeof base === 'string' ? { prefix: base, shards: 1 } : base
}

/** `<prefix>:<tenantId>:<kind>`, e.g. `ucd:acme:catalog`; never under a shard tag (single-key use only). */
export function tenantKey(base: KeyBase, tenantId: string, kind: TenantKeyKind): string {
  return `${keySpaceOf(base).prefix}:${tenantId}:${kind}`
}

/**
 * The prefix of a user's keys: the prefix of the user's shard, `shardPrefix(prefix, shardOf(tenantId,
 * customId, shards), shards)` (`ucd` with one shard, e.g. `{ucd-3-22}` with six). The custom id is the
 * Segment `userId` (or the `anonymousId` an anonymous event is routed by), so it is the same shard the
 * ingest routed the user's events to.
 */
export function userKeyPrefix(base: KeyBase, tenantId: string, customId: string): string {
  const { prefix, shards } = keySpaceOf(base)
  return shardPrefix(prefix, shardOf(tenantId, customId, shards), shards)
}

/**
 * `<user prefix>:<tenantId>:<kind>:<hash>`, e.g. `ucd:acme:id:3f2a…` (`{ucd-3-22}:acme:id:3f2a…` with
 * six shards): the hash is the first 40 hex digits of sha256(custom id), never the custom id itself
 * (it may be an email).
 */
export function userKey(base: KeyBase, tenantId: string, customId: string, kind: UserKeyKind): string {
  return `${userKeyPrefix(base, tenantId, customId)}:${tenantId}:${kind}:${idHash(customId)}`
}

/**
 * `<company prefix>:<tenantId>:company:<kind>:<hash>`, e.g. `ucd:acme:company:clock:9b1c…`: the hash of
 * the company's custom id, as for users. With several shards, a company's keys sit under the shard of
 * `shardOf(tenantId, companyCustomId)` (all of one company's keys in one slot; never with a user's).
 */
export function companyKey(
  base: KeyBase,
  tenantId: string,
  companyCustomId: string,
  kind: CompanyKeyKind,
): string {
  return `${userKeyPrefix(base, tenantId, companyCustomId)}:${tenantId}:company:${kind}:${idHash(companyCustomId)}`
}

/** Recent ids' hashes: one delivery asks for the same user's keys several times. */
const recentHashes = new Map<string, string>()
const RECENT_HASHES = 1024

function idHash(id: string): string {
  const known = recentHashes.get(id)
  if (known !== undefined) return known
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 40)
  if (recentHashes.size >= RECENT_HASHES) recentHashes.clear()
  recentHashes.set(id, hash)
  return hash
}
