import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeBatch, normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { SPEC_FIXTURES } from '@ucd/segment/testing'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { Redis } from 'ioredis'
import {
  createUsercomClient,
  UsercomForbiddenError,
  UsercomRejectedError,
  UsercomServerError,
  UsercomTimeoutError,
  type UsercomClient,
} from '@ucd/usercom-client'
import { createExecutor, type Checkpoints, type ExecutorOptions } from '../executor'
import { IdentityCache } from '../identity-cache'

const KEY = 'executor-test-key-0123456789abcdef0123456789abcdef0123456789abcd'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenant = ''
let tenants = 0

beforeAll(async () => {
  redis = new Redis(testRedisUrl())
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
  client = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 5000, maxSockets: 32 })
})
afterAll(async () => {
  client.close()
  await sim.close()
  await redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})
beforeEach(async () => {
  await sim.admin.reset()
  // A new tenant id per test: its own cache keys in Redis.
  tenants += 1
  tenant = `tenant${tenants}`
})

const executor = (options: Partial<ExecutorOptions> = {}) =>
  createExecutor({
    tenantId: tenant,
    client,
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
    { messageId: `msg-${messages}`, timestamp: '2024-05-01T10:00:00.000Z', ...raw },
    { receivedAt: new Date('2024-05-01T10:00:01.000Z') },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}
const identify = (userId: string, traits: Record<string, unknown>, context: Record<string, unknown> = {}) =>
  event({ type: 'identify', userId, traits, context })
const track = (userId: string, name: string, properties: Record<string, unknown> = {}) =>
  event({ type: 'track', userId, event: name, properties })
const page = (userId: string, url: string) =>
  event({ type: 'page', userId, name: 'Pricing', properties: { url, title: 'Pricing' } })
const group = (userId: string, groupId: string, traits: Record<string, unknown> = {}) =>
  event({ type: 'group', userId, groupId, traits })

const state = async () => {
  const s = await sim.admin.state('acme')
  const app = s.apps.acme
  if (!app) throw new Error('no app state')
  return app
}
const count = (endpoint: string, status?: number) =>
  sim.admin.requestCount(endpoint, { app: 'acme', ...(status === undefined ? {} : { status }) })
const totalRequests = async () =>
  Object.values((await state()).requests).reduce(
    (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0),
    0,
  )

/** Delivers, collecting checkpoints through onStep; returns them and the error, if any. */
async function attempt(
  run: ReturnType<typeof executor>,
  e: SegmentEvent,
  checkpoints: Checkpoints = {},
): Promise<{ checkpoints: Checkpoints; error?: unknown }> {
  const collected: Checkpoints = { ...checkpoints }
  try {
    await run.deliver(e, { checkpoints, onStep: (key, result) => void (collected[key] = result) })
    return { checkpoints: collected }
  } catch (error) {
    return { checkpoints: collected, error }
  }
}

describe('delivery per event type', () => {
  it('identify: creates missing attributes as string, then upserts the user', async () => {
    const result = await executor().deliver(
      identify('u-1', { email: 'ada@example.com', firstName: 'Ada', favoriteColor: 'green', age: 36 }),
    )
    expect(result.plan.steps.map(s => s.key)).toEqual([
      'attribute:clientuser:favorite_color',
      'attribute:clientuser:age',
      'user',
    ])
    expect(result.checkpoints.user).toEqual({ id: expect.any(Number) })
    const { users, attributes } = await state()
    expect(attributes.map(a => [a.name_std, a.value_type])).toEqual([
      ['favorite_color', 'string'],
      ['age', 'string'],
    ])
    expect(users).toHaveLength(1)
    expect(users[0]).toMatchObject({
      custom_id: 'u-1',
      email: 'ada@example.com',
      first_name: 'Ada',
      attributes: { favorite_color: 'green', age: '36' },
    })
  })

  it('track: resolves the user (creating it) and records the event in Unix seconds', async () => {
    const result = await executor().deliver(track('u-2', 'Order Completed', { total: 30 }))
    expect(result.checkpoints).toEqual({
      user: { id: expect.any(Number) },
      event: { id: expect.any(Number) },
    })
    const { users, events } = await state()
    expect(users.map(u => u.custom_id)).toEqual(['u-2'])
    expect(events).toEqual([
      {
        id: expect.any(Number),
        user_id: users[0]?.id,
        name: 'Order Completed',
        data: { total: 30 },
        timestamp: 1714557600,
      },
    ])
  })

  it('page: resolves the user and its user_key, then records the site view', async () => {
    const result = await executor().deliver(page('u-3', 'https://example.com/pricing?plan=pro'))
    expect(result.checkpoints.user).toEqual({
      id: expect.any(Number),
      user_key: expect.stringMatching(/^[a-z0-9]{12}$/),
    })
    const { users, pageViews } = await state()
    expect(users[0]?.page_views).toBe(1)
    expect(pageViews[0]).toMatchObject({ page_domain: 'https://example.com', page_path: '/pricing?plan=pro' })
    expect(await count('GET /users/:id/')).toBe(1)
  })

  it('group: creates the company once, updates it after, adds the member idempotently', async () => {
    const run = executor()
    await run.deliver(group('u-4', 'acme-inc', { name: 'Acme', employees: 50 }))
    await run.deliver(group('u-4', 'acme-inc', { name: 'Acme Inc' }))
    await run.deliver(group('u-5', 'acme-inc', {}))
    const { companies, users } = await state()
    expect(companies).toHaveLength(1)
    expect(companies[0]).toMatchObject({ custom_id: 'acme-inc', name: 'Acme Inc', size: 50 })
    expect(companies[0]?.members).toEqual(users.map(u => u.id))
    expect(await count('POST /companies/')).toBe(1)
  })

  it('screen and alias: skipped, nothing sent', async () => {
    const result = await executor().deliver(event({ type: 'screen', userId: 'u', name: 'Home' }))
    expect(result.skipped).toMatch(/screen/)
    expect(result.plan.steps).toEqual([])
    expect(await totalRequests()).toBe(0)
  })

  it('delivers every Segment spec example the simulator accepts as User.com would', async () => {
    const run = executor()
    const receivedAt = new Date('2024-05-01T10:00:00.000Z')
    let delivered = 0
    for (const fixture of SPEC_FIXTURES) {
      const results =
        fixture.route === 'batch'
          ? (() => {
              const batch = normalizeBatch(fixture.body, { receivedAt })
              return batch.ok ? batch.results : []
            })()
          : [
              normalizeEvent(fixture.body, {
                receivedAt,
                ...(fixture.route === 'event' ? {} : { routeType: fixture.route }),
              }),
            ]
      for (const normalized of results) {
        if (!normalized.ok) continue
        const result = await run.deliver(normalized.event)
        if (result.skipped === undefined) delivered += 1
      }
    }
    expect(delivered).toBeGreaterThan(3)
    const requests = (await state()).requests
    for (const [endpoint, byStatus] of Object.entries(requests)) {
      for (const status of Object.keys(byStatus)) {
        // Lookups may miss (404); nothing may be refused.
        if (!(status === '404' && endpoint.startsWith('PUT /companies-by-id/')))
          expect(Number(status)).toBeLessThan(400)
      }
    }
  })
})

describe('caches, counted at the simulator', () => {
  it('100 tracks for one user cause one user upsert, also from a second worker', async () => {
    const run = executor()
    await Promise.all(Array.from({ length: 50 }, (_, i) => run.deliver(track('same-user', `E${i}`))))
    for (let i = 50; i < 100; i += 1) await run.deliver(track('same-user', `E${i}`))
    expect(await count('POST /users/update_or_create/')).toBe(1)
    expect((await state()).events).toHaveLength(100)
    // Another worker process: its own in-process cache, the same Redis.
    await executor().deliver(track('same-user', 'From another worker'))
    expect(await count('POST /users/update_or_create/')).toBe(1)
  })

  it('50 concurrent identifies with a new attribute cause one catalog fetch and one attribute create', async () => {
    const run = executor()
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => run.deliver(identify(`user-${i}`, { favoriteColor: `c${i}` }))),
    )
    expect(await count('GET /attributes/')).toBe(1)
    expect(await count('POST /attributes/')).toBe(1)
    const { users } = await state()
    expect(users).toHaveLength(50)
    expect(users.every(u => typeof u.attributes.favorite_color === 'string')).toBe(true)
    // A second worker reads the catalog from Redis.
    await executor().deliver(identify('user-x', { favoriteColor: 'red' }))
    expect(await count('GET /attributes/')).toBe(1)
  })

  it('a stale catalog is refreshed once (single-flight) before creating, and values typed by it', async () => {
    const run = executor()
    await run.deliver(identify('warm', { email: 'w@example.com' }))
    expect(await count('GET /attributes/')).toBe(1)
    // Another worker (or a person) defines the attribute after this worker cached the catalog.
    await sim.admin.seedAttributes({ app: 'acme', attributes: [{ name: 'seats', value_type: 'integer' }] })
    await Promise.all(Array.from({ length: 50 }, (_, i) => run.deliver(identify(`s-${i}`, { seats: '12' }))))
    expect(await count('GET /attributes/')).toBe(2)
    expect(await count('POST /attributes/')).toBe(0)
    const { users } = await state()
    expect(users.filter(u => u.attributes.seats === 12)).toHaveLength(50)
  })

  it('creating an attribute that already exists (400 from a concurrent worker) is success after a refresh', async () => {
    const run = executor()
    // The create takes effect but answers 400: what this worker sees when another one won the race.
    await sim.admin.failNext({ method: 'POST', route: '/attributes/', status: 400, phase: 'after' })
    const result = await run.deliver(identify('race', { plan: 'gold' }))
    expect(result.checkpoints['attribute:clientuser:plan']).toEqual({ nameStd: 'plan', valueType: 'string' })
    expect(await count('POST /attributes/', 400)).toBe(1)
    expect(await count('GET /attributes/')).toBe(2)
    expect((await state()).users[0]?.attributes.plan).toBe('gold')
  })

  it('a 400 on create while an older catalog fetch is in flight fetches the catalog again, and delivers', async () => {
    // Another process creates `plan` after this worker's catalog refresh (for x) started and before
    // this worker's create (for y) answers 400: joining that older refresh would not find it.
    let clock = Date.now()
    let lists = 0
    let creates = 0
    let secondListStarted!: () => void
    const secondList = new Promise<void>(resolve => (secondListStarted = resolve))
    let releaseSecondList!: () => void
    const secondListHeld = new Promise<void>(resolve => (releaseSecondList = resolve))
    const raced: UsercomClient = {
      ...client,
      listAttributes: async () => {
        lists += 1
        const n = lists
        const attributes = await client.listAttributes()
        if (n === 2) {
          secondListStarted()
          await secondListHeld
        }
        return attributes
      },
      createAttribute: async body => {
        creates += 1
        if (creates > 1) return client.createAttribute(body)
        await secondList
        clock += 1
        await sim.admin.seedAttributes({
          app: 'acme',
          attributes: [{ name: body.name, value_type: 'string' }],
        })
        try {
          return await client.createAttribute(body)
        } finally {
          // Let the older fetch finish only after the executor has handled the 400.
          setImmediate(releaseSecondList)
        }
      },
    }
    const run = executor({ client: raced, now: () => clock })
    await run.deliver(identify('warm', { email: 'w@example.com' }))
    // y starts with a catalog as new as itself: no refresh before its create.
    const y = attempt(run, identify('y', { plan: 'gold' }))
    clock += 1
    // x's catalog predates it: it refreshes (the second fetch, held until y's create has answered).
    const x = attempt(run, identify('x', { plan: 'silver' }))
    const [yResult, xResult] = await Promise.all([y, x])
    expect(yResult.error).toBeUndefined()
    expect(xResult.error).toBeUndefined()
    expect(await count('POST /attributes/', 400)).toBeGreaterThanOrEqual(1)
    expect(lists).toBeGreaterThanOrEqual(3)
    const { users } = await state()
    expect(Object.fromEntries(users.map(u => [u.custom_id, u.attributes.plan]))).toEqual({
      warm: undefined,
      y: 'gold',
      x: 'silver',
    })
  })

  it('a 400 on create of an attribute that a catalog fetched after it still lacks is rejected', async () => {
    const run = executor()
    await sim.admin.failNext({ method: 'POST', route: '/attributes/', status: 400 })
    const { error, checkpoints } = await attempt(run, identify('lacking', { tier: 'gold' }))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(error).toMatchObject({ kind: 'rejected', status: 400 })
    expect(checkpoints).toEqual({})
  })

  it('a 400 on a body built from a stale cached catalog refreshes it once and re-plans', async () => {
    // The cached catalog lists attributes User.com no longer has (deleted by someone since).
    const stale = {
      fetchedAt: Date.now(),
      attributes: [
        { contentType: 'clientuser', name: 'ghost', nameStd: 'ghost', valueType: 'string' },
        { contentType: 'company', name: 'tier', nameStd: 'tier', valueType: 'string' },
      ],
    }
    const catalogKey = `${prefix}:${tenant}:catalog`
    await redis.set(catalogKey, JSON.stringify(stale), 'PX', 60_000)
    await executor().deliver(identify('g-1', { ghost: 'boo' }))
    // Again, for a company that exists (so the update is what is refused), on a fresh worker.
    await client.createCompany({ custom_id: 'co-1' })
    await redis.set(catalogKey, JSON.stringify(stale), 'PX', 60_000)
    await executor().deliver(group('g-1', 'co-1', { tier: 'gold' }))
    expect(await count('POST /users/update_or_create/', 400)).toBe(1)
    expect(await count('PUT /companies-by-id/:custom_id/', 400)).toBe(1)
    expect(await count('POST /attributes/', 201)).toBe(2)
    const { users, companies } = await state()
    expect(users[0]?.attributes.ghost).toBe('boo')
    expect(companies[0]?.attributes.tier).toBe('gold')
  })

  it('a 400 that a fresh catalog does not explain is rejected, after one refresh', async () => {
    const run = executor()
    await run.deliver(identify('r-1', { email: 'r@example.com' }))
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 400, count: 5 })
    const { error } = await attempt(run, identify('r-1', { email: 'r@example.com' }))
    expect(error).toMatchObject({ kind: 'rejected', status: 400 })
    expect(await count('POST /users/update_or_create/', 400)).toBe(1)
    expect(await count('GET /attributes/')).toBe(2)
  })

  it('a 404 by a cached id invalidates it, re-resolves and retries the step once', async () => {
    const run = executor()
    // The cache says u-9 is user 4242, which User.com does not know (deleted, or another app).
    const cache = new IdentityCache({
      redis,
      keyPrefix: prefix,
      tenantId: tenant,
      ttlSeconds: 60,
      localTtlMs: 1,
      localMaxEntries: 1,
    })
    await cache.set('u-9', { id: 4242 })
    const result = await run.deliver(track('u-9', 'Paid'))
    expect(await count('POST /events/', 404)).toBe(1)
    expect(await count('POST /events/', 201)).toBe(1)
    const { users, events } = await state()
    expect(events[0]?.user_id).toBe(users[0]?.id)
    expect(result.checkpoints.user).toEqual({ id: users[0]?.id })
    expect(JSON.parse((await redis.get(cache.redisKey('u-9'))) ?? '{}')).toEqual({ id: users[0]?.id })
  })

  it('a user_key the site views refuse invalidates the identity and retries once', async () => {
    const run = executor()
    const { id } = await client.upsertUser({ custom_id: 'u-10' })
    const cache = new IdentityCache({
      redis,
      keyPrefix: prefix,
      tenantId: tenant,
      ttlSeconds: 60,
      localTtlMs: 1,
      localMaxEntries: 1,
    })
    await cache.set('u-10', { id, user_key: 'zzzzzzzzzzzz' })
    await run.deliver(page('u-10', 'https://example.com/'))
    expect(await count('POST /site-views/', 400)).toBe(1)
    expect(await count('POST /site-views/', 201)).toBe(1)
    expect((await state()).users[0]?.page_views).toBe(1)
  })

  it('keeps no API key and no raw custom id in Redis', async () => {
    const run = executor()
    await run.deliver(identify('secret.person@example.com', { favoriteColor: 'blue' }))
    await run.deliver(page('secret.person@example.com', 'https://example.com/'))
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:${tenant}:*`, 'COUNT', 1000)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
    expect(keys.length).toBeGreaterThanOrEqual(2)
    for (const key of keys) {
      expect(key).not.toContain('secret.person')
      // Strings (caches) and hashes (field clocks: field names and `<time>:<messageId>` only).
      const value =
        (await redis.type(key)) === 'hash'
          ? JSON.stringify(await redis.hgetall(key))
          : ((await redis.get(key)) ?? '')
      expect(value).not.toContain(KEY)
      expect(value).not.toContain('secret.person')
    }
  })
})

describe('checkpoints: a retry skips the steps that succeeded', () => {
  it('group: add_member fails once; the retry creates no second company', async () => {
    const run = executor()
    await sim.admin.failNext({ method: 'POST', route: '/companies/:id/add_member/', status: 503 })
    const e = group('member-1', 'company-1', { name: 'Company One' })
    const first = await attempt(run, e)
    expect(first.error).toBeInstanceOf(UsercomServerError)
    expect(Object.keys(first.checkpoints)).toEqual(['user', 'company'])
    const second = await attempt(run, e, first.checkpoints)
    expect(second.error).toBeUndefined()
    expect(await count('POST /companies/')).toBe(1)
    expect(await count('PUT /companies-by-id/:custom_id/')).toBe(1)
    expect(await count('POST /users/update_or_create/')).toBe(1)
    const { companies, users } = await state()
    expect(companies).toHaveLength(1)
    expect(companies[0]?.members).toEqual([users[0]?.id])
  })

  it('group: add_member times out (and took effect); the retry adds nothing twice', async () => {
    const slow = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 300 })
    try {
      const run = executor({ client: slow })
      await sim.admin.failNext({ method: 'POST', route: '/companies/:id/add_member/', delayMs: 1000 })
      const e = group('member-2', 'company-2')
      const first = await attempt(run, e)
      expect(first.error).toBeInstanceOf(UsercomTimeoutError)
      const second = await attempt(run, e, first.checkpoints)
      expect(second.error).toBeUndefined()
      const { companies } = await state()
      expect(companies).toHaveLength(1)
      expect(companies[0]?.members).toHaveLength(1)
      expect(await count('POST /companies/')).toBe(1)
    } finally {
      slow.close()
    }
  })

  it('track: a failure before the event, then a retry, makes one occurrence; a completed delivery retried sends nothing', async () => {
    const run = executor()
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 502 })
    const e = track('t-1', 'Signed Up')
    const first = await attempt(run, e)
    expect(first.error).toBeInstanceOf(UsercomServerError)
    expect(first.checkpoints).toEqual({})
    const second = await attempt(run, e, first.checkpoints)
    expect(second.error).toBeUndefined()
    expect(second.checkpoints).toEqual({ user: expect.any(Object), event: expect.any(Object) })
    const before = await totalRequests()
    // The job failed after delivery (e.g. the worker died before acknowledging): delivered again.
    const third = await attempt(run, e, second.checkpoints)
    expect(third.error).toBeUndefined()
    expect(await totalRequests()).toBe(before)
    expect((await state()).events).toHaveLength(1)
  })

  it('page: the site view fails once; the retry does not resolve the user again', async () => {
    const run = executor()
    await sim.admin.failNext({ method: 'POST', route: '/site-views/', status: 500 })
    const e = page('p-1', 'https://example.com/a')
    const first = await attempt(run, e)
    expect(first.error).toBeInstanceOf(UsercomServerError)
    await attempt(run, e, first.checkpoints)
    expect(await count('GET /users/:id/')).toBe(1)
    expect(await count('POST /users/update_or_create/')).toBe(1)
    expect((await state()).users[0]?.page_views).toBe(1)
  })

  it('identify: the upsert fails once after the attribute was created; the retry does not create it again', async () => {
    const run = executor()
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 503 })
    const e = identify('i-1', { nickname: 'Ace' })
    const first = await attempt(run, e)
    expect(first.error).toBeInstanceOf(UsercomServerError)
    expect(Object.keys(first.checkpoints)).toEqual(['attribute:clientuser:nickname'])
    await attempt(run, e, first.checkpoints)
    expect(await count('POST /attributes/')).toBe(1)
    expect((await state()).users[0]?.attributes.nickname).toBe('Ace')
  })

  it('failures keep their class through the executor (403 → forbidden)', async () => {
    await sim.admin.revoke(KEY)
    const { error } = await attempt(executor(), track('f-1', 'x'))
    expect(error).toBeInstanceOf(UsercomForbiddenError)
    await sim.admin.restore(KEY)
  })
})
