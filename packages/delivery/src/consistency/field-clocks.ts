import type { Redis } from 'ioredis'
import type { Clock } from './clock'
import { Script } from './script'

// The clock hash of one user (or company): field → `<eventTimeMs>:<messageId>` of the value last
// written. Written only after User.com took the write, by a Lua compare-and-set per field (one key),
// so an older event can never move a clock back, even without the lock (e.g. after it expired).

/**
 * ARGV: ttl seconds, event time ms, messageId, fields... Sets each field whose stored clock is not
 * newer (byte-wise messageId tie-break, as clock.ts), refreshes the TTL, answers how many it set.
 */
const WRITE = new Script(`
local ttl, t, mid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local clock = ARGV[2] .. ':' .. mid
local function newer(stored)
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
end
local set = 0
for i = 4, #ARGV do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if not stored or not newer(stored) then
    redis.call('HSET', KEYS[1], ARGV[i], clock)
    set = set + 1
  end
end
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return set
`)

export class FieldClocks {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  /** The stored clocks of `key` (field → clock text); empty when none. */
  async read(key: string): Promise<Record<string, string>> {
    return this.redis.hgetall(key)
  }

  /** Records `clock` for `fields` (those not newer already); answers how many were set. */
  async write(key: string, clock: Clock, fields: readonly string[]): Promise<number> {
    if (fields.length === 0) return 0
    const args = [this.ttlSeconds, clock.timeMs, clock.messageId, ...fields]
    return Number(await WRITE.run(this.redis, key, args))
  }
}
