import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, type UsercomClient } from '@ucd/usercom-client'
import { Redis } from 'ioredis'
import { ATTRIBUTE_BUDGET_REASON } from '../attribute-budget'
import { DeliveryDeferredError } from '../errors'
import { createExecutor, type ExecutorOptions } from '../executor'
import { tenantKey } from '../keys'

// Issue 18, delivery side: a 429 pauses only its tenant (across executors, as across processes), the
// new-attribute budget, catalog fetches bounded across processes, and ids unsafe in a path.

const KEY_A = 'isolation-a-key-0123456789abcdef0123456789abcdef0123456789abcdef'
const KEY_B = 'isolation-b-key-0123456789abcdef0123456789abcdef0123456789abcdef'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let clientA: UsercomClient
let clientB: UsercomClient
let run = 0

beforeAll(async () => {
  redis = new Redis(testRedisUrl())
  sim = await startSimulator({
    keys: [
      { key: KEY_A, app: 'alpha' },
      { key: KEY_B, app: 'beta' },
    ],
  })
  clientA = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY_A, timeoutMs: 5000 })
  clientB = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY_B, timeoutMs: 5000 })
})
afterAll(async () => {
  clientA.close()
  clientB.close()
  await sim.close()
  await redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})
beforeEach(async () => {
  await sim.admin.reset()
  run += 1
})

/** An executor of tenant `a` or `b` (a new one per call: another process, sharing Redis). */
const executor = (tenant: 'a' | 'b', options: Partial<ExecutorOptions> = {}) =>
  createExecutor({
    tenantId: `${tenant}${run}`,
    client: tenant === 'a' ? clientA : clientB,
    redis,
    keyPrefix: prefix,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
    ...options,
  })

let messages = 0
function event(raw: Record<string, unknown>): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    { messageId: `iso-${messages}`, timestamp: '2024-05-01T10:00:00.000Z', ...raw },
    { receivedAt: new Date('2024-05-01T10:00:01.000Z') },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}
const track = (userId: string) => event({ type: 'track', userId, event: 'Signed Up', properties: {} })
const identify = (userId: string, traits: Record<string, unknown>) =>
  event({ type: 'identify', userId, traits })

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const totalRequests = async (app: string): Promise<number> =>
  Object.values(await sim.admin.requests(app)).reduce<number>(
    (sum, byStatus) => sum + Object.values(byStatus).reduce<number>((a, b) => a + b, 0),
    0,
  )

describe('a 429 pauses its tenant only', () => {
  it('defers the delivery, pauses the tenant for every executor, and the other tenant goes on', async () => {
    await sim.admin.failApp('alpha', { durationMs: 60_000, retryAfter: '30' })
    const a1 = executor('a')
    const error = await rejection(a1.deliver(track('u1')))
    expect(error).toBeInstanceOf(DeliveryDeferredError)
    expect(error).toMatchObject({ reason: 'tenant_rate_limited' })
    expect((error as DeliveryDeferredError).delayMs).toBeGreaterThanOrEqual(30_000)
    // The pause is in Redis, with Retry-After as its TTL.
    const ttl = await redis.pttl(tenantKey(prefix, `a${run}`, 'pause'))
    expect(ttl).toBeGreaterThan(25_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
    const sent = await totalRequests('alpha')
    // Another process of the same tenant defers without a request.
    const a2 = executor('a')
    const again = await Promise.all([a2.deliver(track('u2')), a1.deliver(track('u3'))].map(rejection))
    for (const e of again) expect(e).toMatchObject({ reason: 'tenant_rate_limited' })
    expect(await totalRequests('alpha')).toBe(sent)
    // Tenant b is not paused.
    const b = executor('b')
    await Promise.all(Array.from({ length: 10 }, (_, i) => b.deliver(track(`b${i}`))))
    expect((await sim.admin.events('beta')).events).toHaveLength(10)
  })

  it('a 429 without Retry-After pauses the default 1 s; after it, the tenant delivers again', async () => {
    await sim.admin.failNext({ app: 'alpha', method: '*', route: '*', status: 429, count: 1 })
    const a = executor('a', { pauseCheckIntervalMs: 0 })
    const error = await rejection(a.deliver(track('u1')))
    expect(error).toMatchObject({ reason: 'tenant_rate_limited' })
    const { delayMs } = error as DeliveryDeferredError
    expect(delayMs).toBeGreaterThanOrEqual(1000)
    expect(delayMs).toBeLessThan(2100)
    await new Promise(resolve => setTimeout(resolve, delayMs))
    await a.deliver(track('u1'))
    expect((await sim.admin.events('alpha')).events).toHaveLength(1)
  })
})

describe('the new-attribute budget', () => {
  it('creates at most newAttributesPerHour attributes per tenant, across executors; the rest are dropped', async () => {
    const first = executor('a', { newAttributesPerHour: 3 })
    const r1 = await first.deliver(identify('u1', { t1: 'x', t2: 'x', t3: 'x', t4: 'x', t5: 'x' }))
    const budgetDrops = (r: { dropped: { reason: string }[] }) =>
      r.dropped.filter(d => d.reason === ATTRIBUTE_BUDGET_REASON)
    expect(budgetDrops(r1)).toHaveLength(2)
    expect(await sim.admin.requestCount('POST /attributes/', { app: 'alpha' })).toBe(3)
    // Another process: the same budget. Known attributes still take values; new ones are dropped.
    const second = executor('a', { newAttributesPerHour: 3 })
    const r2 = await second.deliver(identify('u2', { t1: 'y', t6: 'y' }))
    expect(budgetDrops(r2)).toEqual([{ field: 'user attribute t6', reason: ATTRIBUTE_BUDGET_REASON }])
    expect(await sim.admin.requestCount('POST /attributes/', { app: 'alpha' })).toBe(3)
    const users = (await sim.admin.state('alpha')).apps.alpha?.users ?? []
    expect(users.find(u => u.custom_id === 'u2')?.attributes).toMatchObject({ t1: 'y' })
    expect(users.find(u => u.custom_id === 'u2')?.attributes.t6).toBeUndefined()
    // Another tenant has its own budget.
    const b = executor('b', { newAttributesPerHour: 3 })
    const rb = await b.deliver(identify('u1', { t1: 'x', t2: 'x', t3: 'x' }))
    expect(budgetDrops(rb)).toHaveLength(0)
  })
})

describe('catalog fetches across processes', () => {
  it('two processes loading the catalog at once fetch it once: the second waits for and reuses it', async () => {
    const executors = Array.from({ length: 4 }, () => executor('a', { catalogMinFetchIntervalMs: 5000 }))
    await Promise.all(executors.map((e, i) => e.deliver(identify(`c${i}`, { email: `c${i}@example.com` }))))
    expect(await sim.admin.requestCount('GET /attributes/', { app: 'alpha' })).toBe(1)
    expect(await redis.pttl(tenantKey(prefix, `a${run}`, 'catalog-fetch'))).toBeGreaterThan(0)
  })
})

describe('ids unsafe in a path', () => {
  it('a ".." group id sends nothing addressed by it and is refused as invalid', async () => {
    const a = executor('a')
    for (const groupId of ['..', '.', 'a/b', '?x']) {
      const error = await rejection(a.deliver(event({ type: 'group', userId: 'u1', groupId, traits: {} })))
      expect(error).toMatchObject({ kind: 'invalid', code: 'UC_ERR_INVALID_PATH' })
    }
    // Only the tenant's catalog was read (a group plans its company attributes with it): no user,
    // company or member request, and nothing to a path the client did not build.
    expect(Object.keys(await sim.admin.requests())).toEqual(['GET /attributes/'])
  })
})
