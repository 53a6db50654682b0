import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { uniquePrefix } from '@ucd/testing'
import { UsercomRejectedError, type UsercomClient } from '@ucd/usercom-client'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { createExecutor, type Checkpoints } from '../executor'
import { closeTestbed, openTestbed } from './helpers'

// The re-plan budget of one delivery (delivery-run.ts): one catalog refresh and one re-plan, counted
// at the simulator.

const KEY = 'replan-test-key-0123456789abcdef0123456789abcdef0123456789abcdef0'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenant = ''
let tenants = 0

beforeAll(async () => {
  ;({ redis, sim, client } = await openTestbed(KEY))
})
afterAll(() => closeTestbed({ redis, sim, client }, prefix))
beforeEach(async () => {
  await sim.admin.reset()
  tenants += 1
  tenant = `tenant${tenants}`
})

/** An executor on a clock that stands still: its catalog never predates a delivery (no pre-run refresh). */
const executor = () => {
  const clock = Date.now()
  return createExecutor({
    tenantId: tenant,
    client,
    redis,
    keyPrefix: prefix,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
    now: () => clock,
  })
}

let messages = 0
function identify(userId: string, traits: Record<string, unknown>): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    {
      type: 'identify',
      messageId: `replan-${messages}`,
      timestamp: '2024-05-01T10:00:00.000Z',
      userId,
      traits,
    },
    { receivedAt: new Date('2024-05-01T10:00:01.000Z') },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}

const count = (endpoint: string, status?: number) =>
  sim.admin.requestCount(endpoint, { app: 'acme', ...(status === undefined ? {} : { status }) })
const users = async () => (await sim.admin.state('acme')).apps.acme?.users ?? []

async function attempt(run: ReturnType<typeof executor>, e: SegmentEvent) {
  const checkpoints: Checkpoints = {}
  try {
    const result = await run.deliver(e, { onStep: (key, value) => void (checkpoints[key] = value) })
    return { result, checkpoints }
  } catch (error) {
    return { error, checkpoints }
  }
}

describe('re-plan: an attribute the plan ensured exists with another value type', () => {
  it('re-plans once with the real type, and the value is sent converted to it', async () => {
    const run = executor()
    await run.deliver(identify('warm', { email: 'w@example.com' }))
    // Another worker (or a person) makes `seats` an integer after this worker cached the catalog.
    await sim.admin.seedAttributes({ app: 'acme', attributes: [{ name: 'seats', value_type: 'integer' }] })
    const { result, error, checkpoints } = await attempt(run, identify('s-1', { seats: '12' }))
    expect(error).toBeUndefined()
    expect(checkpoints['attribute:clientuser:seats']).toEqual({ nameStd: 'seats', valueType: 'integer' })
    // The plan that ran last no longer creates it.
    expect(result?.plan.steps.map(s => s.key)).toEqual(['user'])
    expect(await count('POST /attributes/', 400)).toBe(1)
    expect((await users()).find(u => u.custom_id === 's-1')?.attributes.seats).toBe(12)
  })

  it('after that re-plan, a 400 on the upsert stands: no second refresh, no second re-plan', async () => {
    const run = executor()
    await run.deliver(identify('warm', { email: 'w@example.com' }))
    await sim.admin.seedAttributes({ app: 'acme', attributes: [{ name: 'seats', value_type: 'integer' }] })
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 400 })
    const listsBefore = await count('GET /attributes/')
    const { error } = await attempt(run, identify('s-2', { seats: '12' }))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(error).toMatchObject({ status: 400 })
    // One fetch: the one that found `seats` after the create's 400.
    expect((await count('GET /attributes/')) - listsBefore).toBe(1)
    expect(await count('POST /users/update_or_create/', 400)).toBe(1)
  })
})

describe('re-plan: a 400 on a body built from a stale cached catalog', () => {
  it('refreshes and re-plans once; a second 400 after the re-plan stands', async () => {
    // The cached catalog lists an attribute User.com no longer has.
    const stale = {
      fetchedAt: Date.now(),
      attributes: [{ contentType: 'clientuser', name: 'ghost', nameStd: 'ghost', valueType: 'string' }],
    }
    await redis.set(`${prefix}:${tenant}:catalog`, JSON.stringify(stale), 'PX', 60_000)
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 400, count: 2 })
    const { error, checkpoints } = await attempt(executor(), identify('g-1', { ghost: 'boo' }))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(await count('GET /attributes/')).toBe(1)
    expect(await count('POST /users/update_or_create/', 400)).toBe(2)
    // The re-made plan created the attribute before its upsert was refused.
    expect(checkpoints['attribute:clientuser:ghost']).toEqual({ nameStd: 'ghost', valueType: 'string' })
  })
})
