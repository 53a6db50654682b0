import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { uniquePrefix } from '@ucd/testing'
import { UsercomRejectedError, type UsercomClient } from '@ucd/usercom-client'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { createExecutor } from '../executor'
import { closeTestbed, openTestbed } from './helpers'

// Partial acceptance (steps/partial-acceptance.ts): a 400 that names fields of a step's body drops
// them (reported in `dropped` with User.com's message) and sends the rest once more; users, companies,
// events. The refusals come from the simulator's own rules (a fixed attribute's choices, which
// GET /attributes/ does not list, §5.2) or, where no documented rule refuses a field, from failNext.

const KEY = 'partial-test-key-0123456789abcdef0123456789abcdef0123456789abcdef0'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenants = 0
let tenant = ''

beforeAll(async () => {
  ;({ redis, sim, client } = await openTestbed(KEY))
})
afterAll(() => closeTestbed({ redis, sim, client }, prefix))
beforeEach(async () => {
  await sim.admin.reset()
  tenants += 1
  tenant = `tenant${tenants}`
  await sim.admin.seedAttributes({
    app: 'acme',
    attributes: [
      { name: 'tier', value_type: 'fixed', choices: ['gold', 'silver'] },
      { name: 'plan', value_type: 'string' },
      { name: 'segment', content_type: 'company', value_type: 'fixed', choices: ['smb', 'enterprise'] },
    ],
  })
})

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
function event(raw: Record<string, unknown>): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    { messageId: `partial-${messages}`, timestamp: '2024-05-01T10:00:00.000Z', ...raw },
    { receivedAt: new Date('2024-05-01T10:00:01.000Z') },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}

const count = (endpoint: string, status: number) => sim.admin.requestCount(endpoint, { app: 'acme', status })
const state = async () => (await sim.admin.state('acme')).apps.acme
const userOf = async (customId: string) => (await state())?.users.find(u => u.custom_id === customId)

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the delivery to fail')
}

describe('identify', () => {
  it("a value outside a fixed attribute's choices is dropped; every other trait lands", async () => {
    const e = event({
      type: 'identify',
      userId: 'u-1',
      traits: { email: 'peter@example.com', firstName: 'Peter', plan: 'premium', tier: 'platinum' },
    })
    const result = await executor().deliver(e)
    const user = await userOf('u-1')
    expect(user).toMatchObject({ email: 'peter@example.com', first_name: 'Peter' })
    expect(user?.attributes).toEqual({ plan: 'premium' })
    expect(result.dropped).toContainEqual({
      field: 'user.tier',
      reason: expect.stringMatching(/^refused by User\.com: .*not a valid choice/) as unknown as string,
    })
    expect(await count('POST /users/update_or_create/', 400)).toBe(1)
    expect(await count('POST /users/update_or_create/', 200)).toBe(1)
  })

  it('a value inside the choices is sent as it is', async () => {
    await executor().deliver(event({ type: 'identify', userId: 'u-2', traits: { tier: 'gold' } }))
    expect((await userOf('u-2'))?.attributes).toEqual({ tier: 'gold' })
    expect(await count('POST /users/update_or_create/', 400)).toBe(0)
  })

  it('a refusal that would leave nothing to send stands: rejected, nothing written', async () => {
    const e = event({ type: 'identify', userId: 'u-3', traits: { tier: 'platinum' } })
    const error = await failure(executor().deliver(e))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect((error as UsercomRejectedError).fieldErrors).toHaveProperty('tier')
    expect(await userOf('u-3')).toBeUndefined()
    expect(await count('POST /users/update_or_create/', 400)).toBe(1)
  })

  it('a refusal naming no field of the body stands at once', async () => {
    await sim.admin.failNext({
      method: 'POST',
      route: '/users/update_or_create/',
      status: 400,
      errors: { non_field_errors: ['Something is wrong.'], custom_id: ['Taken.'] },
    })
    const error = await failure(
      executor().deliver(event({ type: 'identify', userId: 'u-4', traits: { email: 'a@example.com' } })),
    )
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(await count('POST /users/update_or_create/', 400)).toBe(1)
  })

  it('once per step: a second 400 to the cut body stands', async () => {
    await sim.admin.failNext({
      method: 'POST',
      route: '/users/update_or_create/',
      status: 400,
      errors: { plan: ['Refused.'] },
      count: 2,
    })
    const e = event({ type: 'identify', userId: 'u-5', traits: { email: 'b@example.com', plan: 'pro' } })
    const error = await failure(executor().deliver(e))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(await count('POST /users/update_or_create/', 400)).toBe(2)
    expect(await userOf('u-5')).toBeUndefined()
  })
})

describe('group', () => {
  it('a company value outside the choices is dropped; the company is made and the member added', async () => {
    const e = event({
      type: 'group',
      userId: 'u-6',
      groupId: 'initech',
      traits: { name: 'Initech', segment: 'mid-market' },
    })
    const result = await executor().deliver(e)
    const company = (await state())?.companies.find(c => c.custom_id === 'initech')
    expect(company).toMatchObject({ name: 'Initech', attributes: {} })
    expect(company?.members).toEqual([(await userOf('u-6'))?.id])
    expect(result.dropped.map(d => d.field)).toContain('company.segment')
  })
})

describe('track', () => {
  it('a refused property leaves `data`; the occurrence is recorded with the others', async () => {
    await sim.admin.failNext({
      method: 'POST',
      route: '/events/',
      status: 400,
      errors: { 'data.coupon': ['Event attribute "coupon" is an integer.'] },
    })
    const e = event({
      type: 'track',
      userId: 'u-7',
      event: 'Order Completed',
      properties: { revenue: 12.5, coupon: 'SAVE10' },
    })
    const result = await executor().deliver(e)
    const { events } = await sim.admin.events('acme', 'u-7')
    expect(events.map(o => [o.name, o.data])).toEqual([['Order Completed', { revenue: 12.5 }]])
    expect(result.dropped).toEqual([
      { field: 'properties.coupon', reason: 'refused by User.com: Event attribute "coupon" is an integer.' },
    ])
  })

  it('a refused name cannot be left out: rejected', async () => {
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 400, errors: { name: ['No.'] } })
    const e = event({ type: 'track', userId: 'u-8', event: 'Signed Up', properties: {} })
    expect(await failure(executor().deliver(e))).toBeInstanceOf(UsercomRejectedError)
    expect((await sim.admin.events('acme', 'u-8')).events).toEqual([])
  })
})
