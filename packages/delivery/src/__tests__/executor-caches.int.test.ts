import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { uniquePrefix } from '@ucd/testing'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { UsercomRejectedError, type UsercomClient } from '@ucd/usercom-client'
import type { ExecutorOptions } from '../executor'
import { IdentityCache } from '../identity-cache'
import {
  appState,
  attempt,
  group,
  identify,
  KEY,
  page,
  requestCount,
  testExecutor,
  track,
  closeTestbed,
  openTestbed,
} from './helpers'

const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenant = ''
let tenants = 0

beforeAll(async () => {
  ;({ redis, sim, client } = await openTestbed(KEY, 32))
})
afterAll(() => closeTestbed({ redis, sim, client }, prefix))
beforeEach(async () => {
  await sim.admin.reset()
  // A new tenant id per test: its own cache keys in Redis.
  tenants += 1
  tenant = `tenant${tenants}`
})

const executor = (options: Partial<ExecutorOptions> = {}) =>
  testExecutor({ tenantId: tenant, client, redis, keyPrefix: prefix }, options)
const state = () => appState(sim)
const count = (endpoint: string, status?: number) => requestCount(sim, endpoint, status)

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
