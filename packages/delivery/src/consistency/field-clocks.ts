import type { Cluster, Redis } from 'ioredis'
import type { Clock } from './clock'
import { Script } from './script'

// The clock hash of one user (or company): field → `<eventTimeMs>:<messageId>` of the value last
// written. Written only after User.com took the write, by a Lua compare-and-set per field (one key),
// so an older event can never move a clock back, even without the lock (e.g. after it expired).

/**
 * Lua: `newer(stored)`, whether a stored clock text is newer than the incoming clock (`t`, `mid`,
 * `clock` = `t:mid`): the same order as clock.ts (event time, then messageId byte by byte); an
 * unreadable stored clock is not newer.
 */
export const NEWER_LUA = `
local function newer(stored)
  if stored == clock then return false end
  local colon = string.find(stored, ':', 1, true)
  if not colon then return false end
  local st = tonumber(string.sub(stored, 1, colon - 1))
  if st == nil then return false end
  if st ~= t then return st > t end
  local smid = string.sub(stored, colon + 1)
  local n = math.min(#smid, #mid)
  for i = 1, n do
    local a, b = string.byte(smid, i), string.byte(mid, i)
    if a ~= b then return a > b end
  end
  return #smid > #mid
end`

/**
 * KEYS: the clock hash, and optionally the user's lock (same hash slot). ARGV: ttl seconds, event
 * time ms, messageId, the lock's owner token (or ''), the fields as a JSON array (one argument: one
 * write to the socket, not one per field). Sets each field whose stored clock is not newer,
 * refreshes the TTL, then deletes the lock while it is still the token's (the delivery's last write
 * of this user: one round trip less); answers how many fields it set. One HMGET and one HSET per 200
 * fields, not a call per field.
 */
const WRITE = new Script(`
local ttl, t, mid, token = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local clock = ARGV[2] .. ':' .. mid
${NEWER_LUA}
local fields = cjson.decode(ARGV[5])
local set = 0
local from = 1
while from <= #fields do
  local to = math.min(#fields, from + 199)
  local stored = redis.call('HMGET', KEYS[1], unpack(fields, from, to))
  local writes = {}
  for i = from, to do
    local s = stored[i - from + 1]
    if not s or not newer(s) then
      writes[#writes + 1] = fields[i]
      writes[#writes + 1] = clock
    end
  end
  if #writes > 0 then
    redis.call('HSET', KEYS[1], unpack(writes))
    set = set + #writes / 2
  end
  from = to + 1
end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
if KEYS[2] and redis.call('GET', KEYS[2]) == token then redis.call('DEL', KEYS[2]) end
return set
`)

export class FieldClocks {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly ttlSeconds: number,
  ) {}

  /** The stored clocks of `fields` in `key` (field → clock text; a field without one is absent). */
  async read(key: string, fields: readonly string[]): Promise<Record<string, string>> {
    const stored: Record<string, string> = {}
    if (fields.length === 0) return stored
    const values = await this.redis.hmget(key, ...fields)
    fields.forEach((field, i) => {
      const value = values[i]
      if (value !== null && value !== undefined) stored[field] = value
    })
    return stored
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
