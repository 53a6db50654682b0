import type { Cluster, Redis } from 'ioredis'
import type { Clock } from './clock'
import { clockLua, RELEASE_LUA } from './lua'
import { Script } from './script'

// The clock hash of one user (or company): field → `<eventTimeMs>:<messageId>` of the value last
// written. Written only after User.com took the write, by a Lua compare-and-set of each field (one
// key), so an older event can never move a clock back, even without the lock (e.g. after it expired).

/**
 * KEYS: the clock hash, and optionally the user's lock (same hash slot). ARGV: ttl seconds, event
 * time ms, messageId, the lock's owner token (or ''), the fields as a JSON array (one argument: one
 * write to the socket, not one per field). Sets each field whose stored clock is not newer,
 * refreshes the TTL, then gives the lock back while it is still the token's (the delivery's last
 * write of this user: one round trip less); answers how many fields it set.
 */
const WRITE = new Script(`
local ttl, token = tonumber(ARGV[1]), ARGV[4]
${clockLua(2)}
${RELEASE_LUA}
local fields = cjson.decode(ARGV[5])
local stored = storedClocks(KEYS[1], fields)
local writes = {}
for i, field in ipairs(fields) do
  if not stored[i] or not newer(stored[i]) then
    writes[#writes + 1] = field
    writes[#writes + 1] = clock
  end
end
for from = 1, #writes, 400 do
  redis.call('HSET', KEYS[1], unpack(writes, from, math.min(#writes, from + 399)))
end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
if KEYS[2] then releaseIfOwned(KEYS[2], token) end
return #writes / 2
`)

/** KEYS: the clock hash. ARGV: event time ms, messageId, fields (a JSON array). Answers the stale ones. */
const CHECK = new Script(`
${clockLua(1)}
return staleFields(KEYS[1], cjson.decode(ARGV[3]))
`)

export class FieldClocks {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly ttlSeconds: number,
  ) {}

  /** The fields among `fields` whose stored clock in `key` is newer than `clock`. */
  async stale(key: string, clock: Clock, fields: readonly string[]): Promise<string[]> {
    if (fields.length === 0) return []
    const answer = await CHECK.run(this.redis, key, [clock.timeMs, clock.messageId, JSON.stringify(fields)])
    return Array.isArray(answer) ? answer.map(String) : []
  }

  /**
   * Records `clock` for `fields` (those not newer already); answers how many were set. With `release`
   * (a lock of the same user and its owner token), the lock is released in the same round trip.
   */
  async write(
    key: string,
    clock: Clock,
    fields: readonly string[],
    release?: { lockKey: string; token: string },
  ): Promise<number> {
    if (fields.length === 0 && release === undefined) return 0
    const keys = release === undefined ? [key] : [key, release.lockKey]
    const args = [
      this.ttlSeconds,
      clock.timeMs,
      clock.messageId,
      release?.token ?? '',
      JSON.stringify(fields),
    ]
    return Number(await WRITE.run(this.redis, keys, args))
  }
}
