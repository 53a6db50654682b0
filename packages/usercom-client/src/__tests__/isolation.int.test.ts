import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { Redis } from 'ioredis'
import { createUsercomClient, unsafePathReason, type UsercomClient } from '../client'
import { UsercomInvalidPathError, UsercomThrottledError, isUsercomError } from '../errors'
import { createRedisRateLimiter } from '../rate-limiter'

// Issue 18, client side: ids that would change a request path are refused before any request, and a
// tenant's rate limit refuses (rather than sleeps through) a wait longer than the caller accepts.

const KEY = 'isolation-test-key-0123456789abcdef0123456789abcdef0123456789abcd'
const prefix = uniquePrefix(__filename)
let sim: RunningSimulator
let client: UsercomClient
let redis: Redis

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'iso' }] })
  client = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 5000 })
  redis = new Redis(testRedisUrl())
})
afterAll(async () => {
  client.close()
  await sim.close()
  await redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const totalRequests = async (): Promise<number> => {
  const counts = await sim.admin.requests('iso')
  return Object.values(counts).reduce<number>(
    (sum, byStatus) => sum + Object.values(byStatus).reduce<number>((a, b) => a + b, 0),
    0,
  )
}

describe('ids unsafe in a path', () => {
  it.each(['.', '..', '', 'a/b', '../users', 'a?b=1', 'a#b', '%2e%2e', 'a\\b', 'a\nb'])(
    'refuses %j before any request (UC_ERR_INVALID_PATH, kind invalid)',
    async id => {
      const before = await totalRequests()
      for (const call of [
        () => client.getCompanyByCustomId(id),
        () => client.updateCompanyByCustomId(id, { name: 'x' }),
        () => client.getUserByCustomId(id),
      ]) {
        const error = await rejection(call())
        expect(error).toBeInstanceOf(UsercomInvalidPathError)
        expect(isUsercomError(error)).toBe(true)
        expect(error).toMatchObject({ kind: 'invalid', code: 'UC_ERR_INVALID_PATH' })
        expect((error as Error).message).toMatch(/cannot be sent in a request path/)
      }
      expect(await totalRequests()).toBe(before)
    },
  )

  it('still sends ids that are safe once encoded (spaces, +, unicode, dots inside)', async () => {
    for (const id of ['acme corp', 'a+b', 'zażółć', 'a.b', '...', 'x..y']) {
      expect(unsafePathReason(id)).toBeUndefined()
      expect(await client.getCompanyByCustomId(id)).toBeNull()
    }
    expect(await sim.admin.requestCount('GET /companies-by-id/:custom_id/', { app: 'iso' })).toBe(6)
  })
})

describe('a rate limit with a bounded wait', () => {
  it('takes no slot and throws UsercomThrottledError when the wait would exceed maxWaitMs', async () => {
    const key = `${prefix}:rl`
    const limiter = createRedisRateLimiter(redis, { key, ratePerSecond: 1, maxWaitMs: 1500 })
    // Asked together: slots at +0, +1 s (waits within the bound), then +2 s (over it).
    const outcomes = await Promise.allSettled([limiter.acquire(), limiter.acquire(), limiter.acquire()])
    const refused = outcomes.filter(o => o.status === 'rejected')
    expect(outcomes.filter(o => o.status === 'fulfilled')).toHaveLength(2)
    expect(refused).toHaveLength(1)
    const error: unknown = (refused[0] as PromiseRejectedResult).reason
    expect(error).toBeInstanceOf(UsercomThrottledError)
    expect(error).toMatchObject({ kind: 'rate_limited', code: 'UC_ERR_THROTTLED' })
    expect((error as UsercomThrottledError).retryAfterMs).toBeGreaterThan(0)
    // A refused call reserves nothing: the stored arrival time does not move.
    const stored = await redis.get(key)
    const limiter2 = createRedisRateLimiter(redis, { key, ratePerSecond: 1, maxWaitMs: 0 })
    await expect(limiter2.acquire()).rejects.toBeInstanceOf(UsercomThrottledError)
    expect(await redis.get(key)).toBe(stored)
  })
})
