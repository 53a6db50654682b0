import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { RateLimiter } from './api'
import { UsercomThrottledError } from './errors'

// A rate limit shared by every worker process: GCRA (generic cell rate algorithm) in one Lua
// script, keyed in Redis. Each acquire() reserves the next free slot atomically and sleeps until
// it; callers are served in the order they asked, with one round trip each.

/**
 * KEYS[1]: the limiter key (holds the theoretical arrival time, ms, Redis clock).
 * ARGV[1]: emission interval in ms (1000 / rate). ARGV[2]: burst (slots that may be used at once).
 * ARGV[3]: the longest wait a caller accepts (ms; negative: any).
 * Returns { ms to wait before the slot, 1 when it was reserved / 0 when the wait was too long }.
 */
const GCRA_LUA = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local start = tat - (burst - 1) * interval
local wait = 0
if start > now then wait = start - now end
local maxWait = tonumber(ARGV[3])
if maxWait >= 0 and wait > maxWait then return { math.ceil(wait), 0 } end
local nextTat = tat + interval
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.max(1, math.ceil(nextTat - now + interval)))
return { math.ceil(wait), 1 }
`
const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex')

export interface RedisRateLimiterOptions {
  /** Redis key shared by every process that shares the limit, e.g. `ucd:usercom:rate:global`. */
  key: string
  ratePerSecond: number
  /** Requests allowed back to back before spacing starts; default 1 (evenly spaced). */
  burst?: number
  /**
   * The longest a request waits for its slot. Over it, no slot is taken and acquire() throws a
   * UsercomThrottledError (rate limited, `retryAfterMs` = the wait): the caller puts its work back
   * instead of holding a worker slot asleep, so one tenant's backlog never fills every slot of a
   * worker that other tenants share. Default: no bound (wait as long as it takes).
   */
  maxWaitMs?: number
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** `ratePerSecond` requests per second across every process using `key` (on any connection to that Redis). */
export function createRedisRateLimiter(
  redis: Redis | Cluster,
  options: RedisRateLimiterOptions,
): RateLimiter {
  if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
    throw new RangeError(`ratePerSecond must be a positive number, got ${String(options.ratePerSecond)}`)
  }
  const interval = 1000 / options.ratePerSecond
  const burst = Math.max(1, Math.floor(options.burst ?? 1))
  const maxWait = options.maxWaitMs === undefined ? -1 : Math.max(0, options.maxWaitMs)
  const reserve = async (): Promise<[number, number]> => {
    let answer: unknown
    try {
      answer = await redis.evalsha(GCRA_SHA, 1, options.key, interval, burst, maxWait)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      answer = await redis.eval(GCRA_LUA, 1, options.key, interval, burst, maxWait)
    }
    const [wait, reserved] = answer as [unknown, unknown]
    return [Number(wait), Number(reserved)]
  }
  return {
    async acquire() {
      const [wait, reserved] = await reserve()
      if (reserved !== 1) throw new UsercomThrottledError(wait)
      if (wait > 0) await sleep(wait)
    },
  }
}

/**
 * A limiter that waits for each of `limiters` in turn, in the order given. Put the narrowest first
 * (the tenant's limit, then the global one): a slot is reserved when it is asked for, so a global slot
 * taken before waiting for the tenant's would sit unused meanwhile and let the global rate overshoot.
 */
export function combineRateLimiters(...limiters: (RateLimiter | undefined)[]): RateLimiter | undefined {
  const present = limiters.filter((l): l is RateLimiter => l !== undefined)
  if (present.length === 0) return undefined
  if (present.length === 1) return present[0]
  return {
    async acquire() {
      for (const limiter of present) await limiter.acquire()
    },
  }
}
