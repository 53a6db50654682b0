import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { Redis } from 'ioredis'
import { requestRateLimiter } from '../delivery'
import { testConfig } from './helpers'

const prefix = uniquePrefix(__filename)
let redis: Redis

beforeAll(() => {
  redis = new Redis(testRedisUrl())
})
afterAll(async () => {
  await redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})

describe('requestRateLimiter', () => {
  it('takes a slot of the global limit only once the tenant limit lets the request go', async () => {
    // A slow global limit, so its key (the next free slot) stays in Redis long after it was taken.
    const config = testConfig(testRedisUrl(), prefix, 'http://127.0.0.1:9/', { USERCOM_MAX_RPS: '0.01' })
    const tenant = config.tenants.byId('default')
    if (!tenant) throw new Error('no default tenant')
    const limiter = requestRateLimiter({ ...tenant, maxRequestsPerSecond: 1000 }, { config, redis })
    const tenantKey = `${prefix}:rl:tenant:default`
    const globalKey = `${prefix}:rl:all`
    // The tenant's next free slot is a moment away (its earlier requests), within the bounded wait
    // (TENANT_RATE_MAX_WAIT_MS, 1 s; further away the job is deferred instead): this request waits for it.
    const [seconds, micros] = await redis.time()
    const busyUntil = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 900
    await redis.set(tenantKey, String(busyUntil), 'PX', 60_000)
    const acquired = limiter?.acquire()
    expect(acquired).toBeDefined()
    await waitFor(async () => Number(await redis.get(tenantKey)) > busyUntil, {
      description: 'the request reserved its tenant slot',
    })
    // While it waits for the tenant, it holds no global slot that other tenants' requests could use.
    expect(await redis.exists(globalKey)).toBe(0)
    await acquired
    expect(await redis.exists(globalKey)).toBe(1)
  })
})
