import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { uniquePrefix } from '@ucd/testing'
import type { UsercomClient } from '@ucd/usercom-client'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { eventClock, formatClock } from '../consistency/clock'
import { Consistency } from '../consistency/consistency'
import { FieldClocks } from '../consistency/field-clocks'
import { tryLock } from '../consistency/lock'
import { DeliveryDeferredError } from '../errors'
import { createExecutor, type ExecutorOptions } from '../executor'
import { companyKey, userKey } from '../keys'
import { closeTestbed, openTestbed } from './helpers'

// Per-user consistency on a real Redis and the simulator: the lock, the clock script, and the executor
// dropping values a newer event already wrote.

const KEY = 'consistency-test-key-0123456789abcdef0123456789abcdef0123456789ab'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenant = ''
let tenants = 0

beforeAll(async () => {
  ;({ redis, sim, client } = await openTestbed(KEY, 16))
})
afterAll(() => closeTestbed({ redis, sim, client }, prefix))
beforeEach(async () => {
  await sim.admin.reset()
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
function event(raw: Record<string, unknown>, timestamp: string): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    { messageId: `msg-${String(messages).padStart(4, '0')}`, timestamp, ...raw },
    { receivedAt: new Date('2026-11-28T12:00:00.000Z') },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}
const identify = (userId: string, at: string, traits: Record<string, unknown>) =>
  event({ type: 'identify', userId, traits }, at)
const group = (userId: string, groupId: string, at: string, traits: Record<string, unknown>) =>
  event({ type: 'group', userId, groupId, traits }, at)
const track = (userId: string, at: string) => event({ type: 'track', userId, event: 'Clicked' }, at)

async function simUser(customId: string) {
  const app = (await sim.admin.state('acme')).apps.acme
  return app?.users.find(u => u.custom_id === customId)
}

describe('the lock', () => {
  it('one owner at a time; released by its owner only; the loser learns the time left', async () => {
    const key = `${prefix}:lock-a`
    const first = await tryLock(redis, key, 10_000)
    expect(first.held).toBeDefined()
    const second = await tryLock(redis, key, 10_000)
    expect(second.held).toBeUndefined()
    if (second.held === undefined) {
      expect(second.remainingMs).toBeGreaterThan(0)
      expect(second.remainingMs).toBeLessThanOrEqual(10_000)
    }
    await first.held?.release()
    expect(await redis.exists(key)).toBe(0)
    const third = await tryLock(redis, key, 10_000)
    expect(third.held).toBeDefined()
    // The first owner's release (its lock long gone) does not delete the third's.
    await first.held?.release()
    expect(await redis.exists(key)).toBe(1)
    await third.held?.release()
  })
})

describe('taking a lock with a clock check', () => {
  it('answers the checked fields a newer event wrote, in the same round trip', async () => {
    const clocks = new FieldClocks(redis, 600)
    const clockKey = `${prefix}:clock-check`
    const lockKey = `${prefix}:lock-check`
    const at = (iso: string, messageId: string) => eventClock({ timestamp: iso, receivedAt: iso, messageId })
    await clocks.write(clockKey, at('2026-11-28T10:00:00.000Z', 'b'), ['email', 'plan'])
    await clocks.write(clockKey, at('2026-11-28T08:00:00.000Z', 'b'), ['city'])
    const attempt = await tryLock(redis, lockKey, 10_000, {
      key: clockKey,
      clock: at('2026-11-28T09:00:00.000Z', 'm'),
      fields: ['email', 'city', 'seats', 'plan'],
    })
    expect(attempt.held?.stale.slice().sort()).toEqual(['email', 'plan'])
    // The same time: the messageId decides (byte order), as in clock.ts.
    await attempt.held?.release()
    const tie = await tryLock(redis, lockKey, 10_000, {
      key: clockKey,
      clock: at('2026-11-28T10:00:00.000Z', 'a'),
      fields: ['email'],
    })
    expect(tie.held?.stale).toEqual(['email'])
    await tie.held?.release()
  })

  it('the last clock write gives the lock back, only while the token still owns it', async () => {
    const clocks = new FieldClocks(redis, 600)
    const clockKey = `${prefix}:clock-release`
    const lockKey = `${prefix}:lock-release`
    const clock = eventClock({ timestamp: '2026-11-28T10:00:00.000Z', receivedAt: '', messageId: 'x' })
    const first = await tryLock(redis, lockKey, 10_000)
    expect(first.held).toBeDefined()
    // Another token's write leaves the lock in place.
    expect(await clocks.write(clockKey, clock, ['email'], { lockKey, token: 'not-the-owner' })).toBe(1)
    expect(await redis.exists(lockKey)).toBe(1)
    expect(await clocks.write(clockKey, clock, ['plan'], { lockKey, token: first.held?.token ?? '' })).toBe(1)
    expect(await redis.exists(lockKey)).toBe(0)
    expect(Object.keys(await redis.hgetall(clockKey)).sort()).toEqual(['email', 'plan'])
  })
})

describe('a lock given back with the last clock write', () => {
  it('is gone after that write, and a later write of the same user in the run defers instead', async () => {
    const consistency = new Consistency({
      redis,
      keyPrefix: prefix,
      tenantId: 'early-release',
      clockTtlSeconds: 600,
      lockTtlMs: 10_000,
    })
    const step = {
      op: 'upsert_user' as const,
      key: 'user' as const,
      customId: 'u-early',
      body: { custom_id: 'u-early', email: 'a@x.io' },
    }
    const plan = { steps: [step], dropped: [] } as unknown as Parameters<Consistency['withLocks']>[0]
    const clock = eventClock({ timestamp: '2026-11-28T10:00:00.000Z', receivedAt: '', messageId: 'e1' })
    const lockKey = userKey(prefix, 'early-release', 'u-early', 'lock')
    await consistency.withLocks(plan, clock, async held => {
      expect(await redis.exists(lockKey)).toBe(1)
      consistency.assertHeld(step, held)
      await consistency.recordWritten(step, clock, held, [])
      expect(await redis.exists(lockKey)).toBe(0)
      expect(() => consistency.assertHeld(step, held)).toThrow(DeliveryDeferredError)
    })
    expect(await redis.hget(userKey(prefix, 'early-release', 'u-early', 'clock'), 'email')).toBe(
      formatClock(clock),
    )
  })
})

describe('the clock script', () => {
  it('sets a field only when its stored clock is not newer, and keeps the TTL', async () => {
    const clocks = new FieldClocks(redis, 600)
    const key = `${prefix}:clock-a`
    const at = (iso: string, messageId: string) => eventClock({ timestamp: iso, receivedAt: iso, messageId })
    const t10 = at('2026-11-28T10:00:00.000Z', 'b')
    expect(await clocks.write(key, t10, ['email', 'plan'])).toBe(2)
    // Older, and the same time with a smaller messageId: not set.
    expect(await clocks.write(key, at('2026-11-28T09:00:00.000Z', 'z'), ['email'])).toBe(0)
    expect(await clocks.write(key, at('2026-11-28T10:00:00.000Z', 'a'), ['email'])).toBe(0)
    // The same clock again (a retry): set (no change); a larger messageId at the same time: newer.
    expect(await clocks.write(key, t10, ['email'])).toBe(1)
    const t10c = at('2026-11-28T10:00:00.000Z', 'c')
    expect(await clocks.write(key, t10c, ['plan', 'score'])).toBe(2)
    expect(await redis.hgetall(key)).toEqual({
      email: formatClock(t10),
      plan: formatClock(t10c),
      score: formatClock(t10c),
    })
    const ttl = await redis.ttl(key)
    expect(ttl).toBeGreaterThan(500)
    expect(ttl).toBeLessThanOrEqual(600)
  })
})

describe('the executor', () => {
  it('an older identify after a newer one sends none of its values and reports them stale', async () => {
    const run = executor()
    const newest = await run.deliver(
      identify('u-1', '2026-11-28T10:05:00.000Z', { email: 'new@x.io', plan: 'pro', seats: 5 }),
    )
    expect(newest.dropped).toEqual([])
    const old = await run.deliver(
      identify('u-1', '2026-11-28T10:00:00.000Z', { email: 'old@x.io', plan: 'free', city: 'Oslo' }),
    )
    expect(old.dropped).toEqual(
      expect.arrayContaining([
        { field: 'user.email', reason: 'stale' },
        { field: 'user.plan', reason: 'stale' },
      ]),
    )
    expect(old.dropped.some(d => d.field === 'user.city')).toBe(false)
    const user = await simUser('u-1')
    expect(user?.email).toBe('new@x.io')
    expect(user?.attributes.plan).toBe('pro')
    // A field only the older event had is still written: nothing newer wrote it.
    expect(user?.city).toBe('Oslo')
    const clocks = await redis.hgetall(userKey(prefix, tenant, 'u-1', 'clock'))
    expect(Object.keys(clocks).sort()).toEqual(['city', 'email', 'plan', 'seats'])
  })

  it('groups: company values of an older group are stale', async () => {
    const run = executor()
    await run.deliver(group('u-2', 'co-1', '2026-11-28T10:05:00.000Z', { name: 'New Name', tier: 'gold' }))
    const old = await run.deliver(
      group('u-2', 'co-1', '2026-11-28T10:00:00.000Z', { name: 'Old Name', tier: 'tin' }),
    )
    expect(old.dropped).toEqual(
      expect.arrayContaining([
        { field: 'company.name', reason: 'stale' },
        { field: 'company.tier', reason: 'stale' },
      ]),
    )
    const company = (await sim.admin.state('acme')).apps.acme?.companies.find(c => c.custom_id === 'co-1')
    expect(company?.name).toBe('New Name')
    expect(company?.attributes.tier).toBe('gold')
    expect(await redis.exists(companyKey(prefix, tenant, 'co-1', 'clock'))).toBe(1)
  })

  it('a taken lock defers identify and group, never track; the lock is gone after a delivery', async () => {
    const run = executor({ consistency: { deferMinMs: 10, deferMaxMs: 20 } })
    const lockKey = userKey(prefix, tenant, 'u-3', 'lock')
    await redis.set(lockKey, 'someone-else', 'PX', 30_000)
    const deferred = await run.deliver(identify('u-3', '2026-11-28T10:00:00.000Z', { plan: 'pro' })).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(deferred).toBeInstanceOf(DeliveryDeferredError)
    expect((deferred as DeliveryDeferredError).reason).toBe('user_locked')
    expect((deferred as DeliveryDeferredError).delayMs).toBeGreaterThanOrEqual(10)
    expect((deferred as DeliveryDeferredError).delayMs).toBeLessThanOrEqual(20)
    expect(await simUser('u-3')).toBeUndefined()
    // A track of the same user goes through while the lock is held.
    const tracked = await run.deliver(track('u-3', '2026-11-28T10:01:00.000Z'))
    expect(tracked.checkpoints.event).toBeDefined()
    await redis.del(lockKey)
    await run.deliver(identify('u-3', '2026-11-28T10:00:00.000Z', { plan: 'pro' }))
    expect((await simUser('u-3'))?.attributes.plan).toBe('pro')
    expect(await redis.exists(lockKey)).toBe(0)
  })

  it('switched off: no clocks, no locks, an older identify overwrites', async () => {
    const run = executor({ consistency: false })
    await run.deliver(identify('u-4', '2026-11-28T10:05:00.000Z', { plan: 'pro' }))
    const old = await run.deliver(identify('u-4', '2026-11-28T10:00:00.000Z', { plan: 'free' }))
    expect(old.dropped).toEqual([])
    expect((await simUser('u-4'))?.attributes.plan).toBe('free')
    expect(await redis.exists(userKey(prefix, tenant, 'u-4', 'clock'))).toBe(0)
  })
})
