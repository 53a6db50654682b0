import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeBatch, normalizeEvent } from '@ucd/segment'
import { SPEC_FIXTURES } from '@ucd/segment/testing'
import { uniquePrefix } from '@ucd/testing'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import {
  createUsercomClient,
  UsercomForbiddenError,
  UsercomServerError,
  UsercomTimeoutError,
  type UsercomClient,
} from '@ucd/usercom-client'
import type { ExecutorOptions } from '../executor'
import {
  appState,
  attempt,
  event,
  group,
  identify,
  KEY,
  page,
  requestCount,
  testExecutor,
  totalRequestsOf,
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
const totalRequests = () => totalRequestsOf(sim)

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
