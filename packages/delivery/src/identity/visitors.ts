import type { Cluster, Redis } from 'ioredis'
import { LocalLru } from '../identity-cache'
import { userKey, type KeyBase } from '../keys'

// An anonymous visitor's identity state, in ONE Redis hash per (tenant, anonymousId): the key is
// `userKey(prefix, tenant, anonymousId, 'anon')`, so every script here touches one key (one cluster
// slot), never the identified user's keys. Fields:
//   user     the userId this anonymousId maps to (set once, SET-NX style: never replaced)
//   by       the messageId of the delivery that claimed the mapping: the one that may merge
//   anon     '1': this product delivered anonymous-only events under this anonymousId (it made a user)
//   merge    'calling' (a merge call was sent, answer unknown) | 'done' | 'none' (nothing to merge)
//   f:<mid>  a lease: an anonymous-only delivery in flight, until the epoch ms stored
// The TTL (IDENTITY_MAPPING_TTL_SECONDS) is set again on every write. A mapping never changes once set,
// so a process remembers the settled ones for a short while (an LRU, like the identity cache): the events
// of a visitor after its merge cost no Redis round trip here.

/** An anonymous-only delivery either goes to the mapped user or takes a lease on the anonymous one. */
const ENTER = `
local mapped = redis.call('HGET', KEYS[1], 'user')
if mapped then return mapped end
redis.call('HSET', KEYS[1], 'anon', '1', ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return false
`

/** Claims the mapping (first one wins, once) and reports what the merge needs to know. */
const CLAIM = `
local cur = redis.call('HMGET', KEYS[1], 'user', 'by', 'anon', 'merge')
local status
if not cur[1] then
  redis.call('HSET', KEYS[1], 'user', ARGV[1], 'by', ARGV[2])
  status = 'claimed'
elseif cur[1] ~= ARGV[1] then
  return {'conflict', 0, 0, ''}
elseif cur[2] == ARGV[2] then
  status = 'claimed'
else
  status = 'mapped'
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
local inflight = 0
local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'f:' then
    if tonumber(all[i + 1]) > now then inflight = inflight + 1 else redis.call('HDEL', KEYS[1], all[i]) end
  end
end
return {status, cur[3] and 1 or 0, inflight, cur[4] or ''}
`

export type ClaimStatus =
  /** This delivery holds the mapping (now, or since an earlier attempt of the same message). */
  | 'claimed'
  /** Another delivery of the same pair holds it: that one merges. */
  | 'mapped'
  /** The anonymousId maps to another userId: never merge two people. */
  | 'conflict'

export interface Claim {
  status: ClaimStatus
  /** This product delivered anonymous-only events under the anonymousId (it made that user). */
  anonymous: boolean
  /** Anonymous-only deliveries still in flight (unexpired leases). */
  inFlight: number
  merge: '' | 'calling' | 'done' | 'none'
}

export interface AnonymousVisitorsOptions {
  redis: Redis | Cluster
  keyPrefix: KeyBase
  tenantId: string
  /** IDENTITY_MAPPING_TTL_SECONDS. */
  ttlSeconds: number
  /** How long a lease of an anonymous-only delivery holds a merge back at most (a crashed worker's). */
  leaseMs: number
  now: () => number
  /** In-process memory of settled mappings: entries and TTL (defaults 10 000 and 30 s). */
  localMaxEntries?: number
  localTtlMs?: number
}

export class AnonymousVisitors {
  /** anonymousId → the userId it maps to, once its merge is over (a claim then has nothing to do). */
  private readonly settled: LocalLru<string>
  /** anonymousId → the userId it maps to, merge over or not (where anonymous-only events go). */
  private readonly mapped: LocalLru<string>

  constructor(private readonly options: AnonymousVisitorsOptions) {
    const entries = options.localMaxEntries ?? 10_000
    const ttlMs = options.localTtlMs ?? 30_000
    this.settled = new LocalLru(entries, ttlMs, options.now)
    this.mapped = new LocalLru(entries, ttlMs, options.now)
  }

  key(anonymousId: string): string {
    return userKey(this.options.keyPrefix, this.options.tenantId, anonymousId, 'anon')
  }

  /**
   * Before an anonymous-only delivery: the userId the anonymousId maps to (deliver to it), or null after
   * taking a lease for `messageId` (deliver to the anonymous user; call `leave` when done).
   */
  async enter(anonymousId: string, messageId: string): Promise<string | null> {
    const known = this.mapped.get(anonymousId)
    if (known !== undefined) return known
    const { redis, ttlSeconds, leaseMs, now } = this.options
    const mapped = (await redis.eval(
      ENTER,
      1,
      this.key(anonymousId),
      `f:${messageId}`,
      String(now() + leaseMs),
      String(ttlSeconds),
    )) as string | null
    if (mapped !== null) this.mapped.set(anonymousId, mapped)
    return mapped
  }

  /** The anonymous-only delivery is over (done or failed): its lease no longer holds a merge back. */
  async leave(anonymousId: string, messageId: string): Promise<void> {
    await this.options.redis.hdel(this.key(anonymousId), `f:${messageId}`)
  }

  /** Claims anonymousId → userId for `messageId` (first claim wins, never replaced) and reads the state. */
  async claim(anonymousId: string, userId: string, messageId: string): Promise<Claim> {
    const known = this.settled.get(anonymousId)
    if (known !== undefined) {
      return { status: known === userId ? 'mapped' : 'conflict', anonymous: false, inFlight: 0, merge: '' }
    }
    const { redis, ttlSeconds, now } = this.options
    const [status, anonymous, inFlight, merge] = (await redis.eval(
      CLAIM,
      1,
      this.key(anonymousId),
      userId,
      messageId,
      String(now()),
      String(ttlSeconds),
    )) as [ClaimStatus, number, number, Claim['merge']]
    // Not remembered on 'mapped': the claiming delivery (maybe in this process) has yet to merge.
    return { status, anonymous: anonymous === 1, inFlight, merge }
  }

  /** The merge of this visitor into `userId` is over (merged, or nothing to merge): remember it here. */
  settle(anonymousId: string, userId: string): void {
    this.settled.set(anonymousId, userId)
    this.mapped.set(anonymousId, userId)
  }

  /** Records the merge state (`calling` before the call, `done` / `none` after). */
  async setMerge(anonymousId: string, state: 'calling' | 'done' | 'none'): Promise<void> {
    const key = this.key(anonymousId)
    await this.options.redis.multi().hset(key, 'merge', state).expire(key, this.options.ttlSeconds).exec()
  }
}
