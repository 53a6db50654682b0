import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cleanupPrefix, startRedisServer, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { Redis } from 'ioredis'
import { combineRateLimiters, createRedisRateLimiter } from '../rate-limiter'
import type { RateLimiter } from '../client'

const prefix = uniquePrefix(__filename)
let a: Redis
let b: Redis

beforeAll(() => {
  a = new Redis(testRedisUrl())
  b = new Redis(testRedisUrl())
})
afterAll(async () => {
  await a.quit()
  await b.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})

/** Runs `workers` loops that acquire and count until `windowMs` has passed; returns the count. */
async function countFor(limiters: RateLimiter[], workers: number, windowMs: number): Promise<number> {
  const deadline = Date.now() + windowMs
  let count = 0
  await Promise.all(
    limiters.flatMap(limiter =>
      Array.from({ length: workers }, async () => {
        for (;;) {
          await limiter.acquire()
          if (Date.now() > deadline) return
          count += 1
        }
      }),
    ),
  )
  return count
}

describe('createRedisRateLimiter', () => {
  it('holds the rate across two limiters on different connections sharing a key', async () => {
    const key = `${prefix}:rate:shared`
    const first = createRedisRateLimiter(a, { key, ratePerSecond: 20 })
    const second = createRedisRateLimiter(b, { key, ratePerSecond: 20 })
    const count = await countFor([first, second], 10, 2000)
    // 20/s over 2 s is 40 (+1 for the first slot); generous bounds, no timing of single calls.
    expect(count).toBeGreaterThanOrEqual(28)
    expect(count).toBeLessThanOrEqual(50)
    // Unshared keys would have allowed about twice as many: the limit is really shared.
  })

  it('keys apart do not share a limit', async () => {
    const first = createRedisRateLimiter(a, { key: `${prefix}:rate:one`, ratePerSecond: 20 })
    const second = createRedisRateLimiter(b, { key: `${prefix}:rate:two`, ratePerSecond: 20 })
    const count = await countFor([first, second], 5, 1000)
    expect(count).toBeGreaterThanOrEqual(30)
  })

  it('lets a burst through at once, then spaces', async () => {
    const limiter = createRedisRateLimiter(a, { key: `${prefix}:rate:burst`, ratePerSecond: 2, burst: 5 })
    const count = await countFor([limiter], 6, 500)
    expect(count).toBeGreaterThanOrEqual(5)
    expect(count).toBeLessThanOrEqual(7)
  })

  it('refuses a rate that is not positive', () => {
    expect(() => createRedisRateLimiter(a, { key: 'x', ratePerSecond: 0 })).toThrow(RangeError)
  })

  it('recovers when Redis forgot the script (a private Redis: SCRIPT FLUSH is not for the shared one)', async () => {
    const server = await startRedisServer()
    const own = new Redis(server.url)
    try {
      // A slow rate: the key lives two intervals (4 s), so it is still there when checked on a loaded machine.
      const limiter = createRedisRateLimiter(own, { key: 'rate:flush', ratePerSecond: 0.5, burst: 2 })
      await limiter.acquire()
      await own.script('FLUSH')
      await limiter.acquire()
      expect(await own.exists('rate:flush')).toBe(1)
    } finally {
      await own.quit()
      await server.stop()
    }
  })
})

describe('combineRateLimiters', () => {
  it('waits for each limiter in order, and is the slower of them', async () => {
    const order: string[] = []
    const tagged = (tag: string): RateLimiter => ({ acquire: async () => void order.push(tag) })
    await combineRateLimiters(tagged('tenant'), undefined, tagged('global'))?.acquire()
    expect(order).toEqual(['tenant', 'global'])
    expect(combineRateLimiters(undefined, undefined)).toBeUndefined()

    const fast = createRedisRateLimiter(a, { key: `${prefix}:rate:fast`, ratePerSecond: 100 })
    const slow = createRedisRateLimiter(b, { key: `${prefix}:rate:slow`, ratePerSecond: 10 })
    const both = combineRateLimiters(fast, slow)
    const count = await countFor(both ? [both] : [], 5, 1000)
    expect(count).toBeGreaterThanOrEqual(6)
    expect(count).toBeLessThanOrEqual(16)
  })
})
