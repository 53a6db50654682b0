import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { uniquePrefix } from '@ucd/testing'
import type { UsercomClient } from '@ucd/usercom-client'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { DeliveryDeferredError } from '../errors'
import { createExecutor, type ExecutorOptions } from '../executor'
import type { MergeOutcome } from '../identity/merge'
import { AnonymousVisitors } from '../identity/visitors'
import { closeTestbed, openTestbed } from './helpers'

// Identity resolution against the simulator with a real Redis, in one process (the separate-process
// cases are in apps/worker): anonymous history follows the person, never two people merged, alias.

const KEY = 'identity-test-key-0123456789abcdef0123456789abcdef0123456789abcd'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenant = ''
let tenants = 0
let outcomes: MergeOutcome[] = []

beforeAll(async () => {
  ;({ redis, sim, client } = await openTestbed(KEY, 32))
})
afterAll(() => closeTestbed({ redis, sim, client }, prefix))
beforeEach(async () => {
  await sim.admin.reset()
  tenants += 1
  tenant = `tenant${tenants}`
  outcomes = []
})

const executor = (options: Partial<ExecutorOptions> = {}) =>
  createExecutor({
    tenantId: tenant,
    client,
    redis,
    keyPrefix: prefix,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
    identityMappingTtlSeconds: 3600,
    planOptions: { mergeAnonymous: true },
    onMerge: outcome => outcomes.push(outcome),
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
const ids = (userId: string | undefined, anonymousId: string | undefined) => ({
  ...(userId === undefined ? {} : { userId }),
  ...(anonymousId === undefined ? {} : { anonymousId }),
})
const page = (userId: string | undefined, anonymousId: string | undefined, path: string) =>
  event({ type: 'page', ...ids(userId, anonymousId), properties: { url: `https://shop.example${path}` } })
const track = (userId: string | undefined, anonymousId: string | undefined, name: string) =>
  event({ type: 'track', ...ids(userId, anonymousId), event: name, properties: {} })
const identify = (userId: string, anonymousId: string | undefined, traits: Record<string, unknown>) =>
  event({ type: 'identify', ...ids(userId, anonymousId), traits })

const state = async () => {
  const app = (await sim.admin.state('acme')).apps.acme
  if (!app) throw new Error('no app state')
  return app
}
const merges = () => sim.admin.requestCount('POST /users/merge/')

describe('anonymous → identified', () => {
  it('anonymous pages and a track, then identify with both ids: one user with all of it; later anonymous pages follow', async () => {
    const run = executor()
    await run.deliver(page(undefined, 'anon-1', '/a'))
    await run.deliver(page(undefined, 'anon-1', '/b'))
    await run.deliver(track(undefined, 'anon-1', 'Added to Cart'))
    expect((await state()).users.map(u => u.custom_id)).toEqual(['anon-1'])

    await run.deliver(identify('user-1', 'anon-1', { email: 'ada@example.com', first_name: 'Ada' }))
    let app = await state()
    expect(app.users).toHaveLength(1)
    const [user] = app.users
    expect(user).toMatchObject({ custom_id: 'user-1', email: 'ada@example.com', first_name: 'Ada' })
    expect(app.pageViews.filter(v => v.user_id === user?.id)).toHaveLength(2)
    expect(app.events.map(e => [e.user_id, e.name])).toEqual([[user?.id, 'Added to Cart']])
    expect(outcomes).toEqual(['merged'])

    // Later anonymous-only events go to the identified user: no anonymous user again.
    await run.deliver(page(undefined, 'anon-1', '/c'))
    await executor().deliver(track(undefined, 'anon-1', 'Checkout'))
    app = await state()
    expect(app.users.map(u => u.custom_id)).toEqual(['user-1'])
    expect(app.pageViews.filter(v => v.user_id === user?.id)).toHaveLength(3)
    expect(app.events.map(e => e.user_id)).toEqual([user?.id, user?.id])
    expect(await merges()).toBe(1)
  })

  it('identify first, anonymous events after: they land on the identified user, nothing to merge', async () => {
    const run = executor()
    await run.deliver(identify('user-2', 'anon-2', { email: 'b@example.com' }))
    await run.deliver(page(undefined, 'anon-2', '/a'))
    const app = await state()
    expect(app.users.map(u => u.custom_id)).toEqual(['user-2'])
    expect(app.pageViews.map(v => v.user_id)).toEqual([app.users[0]?.id])
    expect(outcomes).toEqual(['nothing_to_merge'])
    expect(await merges()).toBe(0)
  })

  it('at most one merge call per visitor, however many events carry the pair (concurrently too)', async () => {
    await executor().deliver(track(undefined, 'anon-3', 'Viewed'))
    const runs = [executor(), executor(), executor()]
    await Promise.all(
      Array.from({ length: 9 }, (_, n) =>
        runs[n % 3]!.deliver(track('user-3', 'anon-3', `E${n}`)).catch((error: unknown) => {
          // A delivery that found another holding the merge back is deferred, then run again.
          if (!(error instanceof DeliveryDeferredError)) throw error
          return runs[n % 3]!.deliver(track('user-3', 'anon-3', `E${n}-again`))
        }),
      ),
    )
    await executor().deliver(identify('user-3', 'anon-3', { first_name: 'C' }))
    const app = await state()
    expect(app.users.map(u => u.custom_id)).toEqual(['user-3'])
    expect(app.events).toHaveLength(10)
    expect(await merges()).toBe(1)
    expect(outcomes.filter(o => o === 'merged')).toHaveLength(1)
  })

  it('a merge waits for the anonymous deliveries in flight (their lease), then merges them', async () => {
    const run = executor()
    await run.deliver(page(undefined, 'anon-4', '/a'))
    const visitors = new AnonymousVisitors({
      redis,
      keyPrefix: prefix,
      tenantId: tenant,
      ttlSeconds: 3600,
      leaseMs: 60_000,
      now: Date.now,
    })
    // An anonymous delivery in flight, as another worker would hold it.
    expect(await visitors.enter('anon-4', 'in-flight')).toBeNull()
    const identified = identify('user-4', 'anon-4', { first_name: 'D' })
    const checkpoints: Record<string, unknown> = {}
    const options = { checkpoints, onStep: (k: string, v: unknown) => void (checkpoints[k] = v) }
    await expect(run.deliver(identified, options)).rejects.toMatchObject({ reason: 'anonymous_in_flight' })
    expect(await merges()).toBe(0)
    // New anonymous events already go to the identified user while the merge waits.
    await run.deliver(track(undefined, 'anon-4', 'During'))
    await visitors.leave('anon-4', 'in-flight')
    await run.deliver(identified, options)
    const app = await state()
    expect(app.users.map(u => u.custom_id)).toEqual(['user-4'])
    expect(app.pageViews.map(v => v.user_id)).toEqual([app.users[0]?.id])
    expect(app.events.map(e => e.user_id)).toEqual([app.users[0]?.id])
    expect(await merges()).toBe(1)
  })
})

describe('never merge two people', () => {
  it('identify(u3, a) then identify(u4, a): two users, no merge, refused and counted', async () => {
    const run = executor()
    await run.deliver(page(undefined, 'shared-pc', '/'))
    await run.deliver(identify('u3', 'shared-pc', { email: 'u3@example.com' }))
    await run.deliver(identify('u4', 'shared-pc', { email: 'u4@example.com' }))
    const app = await state()
    expect(app.users.map(u => u.custom_id).sort()).toEqual(['u3', 'u4'])
    expect(await merges()).toBe(1) // the anonymous user into u3, never u3 into u4
    expect(app.merges[0]?.merged.map(u => u.custom_id)).toEqual(['shared-pc'])
    expect(outcomes).toEqual(['merged', 'refused_conflict'])
  })

  it('an identified user is never merged: no anonymous calls under that id, no merge', async () => {
    const run = executor()
    await run.deliver(identify('p-known', undefined, { email: 'p@example.com' }))
    await run.deliver(event({ type: 'alias', userId: 'u-new', previousId: 'p-known' }))
    expect((await state()).users.map(u => u.custom_id).sort()).toEqual(['p-known', 'u-new'])
    expect(await merges()).toBe(0)
  })

  it('mergeAnonymous off: both users stay, alias is not delivered', async () => {
    const run = executor({ planOptions: { mergeAnonymous: false } })
    await run.deliver(page(undefined, 'anon-5', '/'))
    await run.deliver(identify('user-5', 'anon-5', {}))
    const result = await run.deliver(event({ type: 'alias', userId: 'user-5', previousId: 'anon-5' }))
    expect(result.skipped).toMatch(/mergeAnonymous/)
    expect((await state()).users).toHaveLength(2)
    expect(await merges()).toBe(0)
    expect(await redis.keys(`${prefix}:${tenant}:anon:*`)).toEqual([])
  })
})

describe('alias', () => {
  it('alias(previousId p, userId u) after activity under p: one user', async () => {
    const run = executor()
    await run.deliver(page(undefined, 'p-6', '/a'))
    await run.deliver(track(undefined, 'p-6', 'Signed Up'))
    await run.deliver(identify('u-6', undefined, { email: 'u6@example.com' }))
    await run.deliver(event({ type: 'alias', userId: 'u-6', previousId: 'p-6' }))
    const app = await state()
    expect(app.users.map(u => u.custom_id)).toEqual(['u-6'])
    expect(app.pageViews.map(v => v.user_id)).toEqual([app.users[0]?.id])
    expect(app.events.map(e => e.user_id)).toEqual([app.users[0]?.id])
    expect(await merges()).toBe(1)
  })
})

describe('the mapping in Redis', () => {
  it('one hash per visitor, with the TTL, no API key; its MEMORY USAGE stays small', async () => {
    const run = executor({ identityMappingTtlSeconds: 600 })
    await run.deliver(page(undefined, 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff', '/'))
    await run.deliver(identify('user-7@example.com', 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff', {}))
    const keys = await redis.keys(`${prefix}:${tenant}:anon:*`)
    expect(keys).toHaveLength(1)
    const key = keys[0]!
    expect(await redis.ttl(key)).toBeGreaterThan(500)
    const fields = await redis.hgetall(key)
    expect(fields).toMatchObject({ user: 'user-7@example.com', anon: '1', merge: 'done' })
    expect(JSON.stringify(fields)).not.toContain(KEY)
    expect(key).not.toContain('a1b2c3d4')
    const bytes = Number(await redis.call('MEMORY', 'USAGE', key))
    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThan(300)
  })
})
