import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { uniquePrefix } from '@ucd/testing'
import type { UsercomClient } from '@ucd/usercom-client'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { createExecutor } from '../executor'
import { closeTestbed, openTestbed } from './helpers'

// Issue 17, item by item: the input event, delivered by the executor to the simulator (which enforces
// usercom-api.md's limits and refusals), and what User.com then holds. Each of these used to be
// dead-lettered as `rejected` or to lose data. (Fixed choices and refused fields:
// partial-acceptance.int.test.ts; pageDomain: plan-options.int.test.ts.)

const KEY = 'items-test-key-0123456789abcdef0123456789abcdef0123456789abcdef01'
const prefix = uniquePrefix(__filename)
const RECEIVED_AT = '2024-05-01T10:00:01.000Z'
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
})

const deliver = (e: SegmentEvent) =>
  createExecutor({
    tenantId: tenant,
    client,
    redis,
    keyPrefix: prefix,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
  }).deliver(e)

let messages = 0
function event(raw: Record<string, unknown>): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    { messageId: `items-${messages}`, timestamp: '2024-05-01T10:00:00.000Z', ...raw },
    { receivedAt: new Date(RECEIVED_AT) },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}

const state = async () => {
  const app = (await sim.admin.state('acme')).apps.acme
  if (app === undefined) throw new Error('no app state')
  return app
}
const userOf = async (customId: string) => (await state()).users.find(u => u.custom_id === customId)

describe('length limits, applied before sending and reported', () => {
  it('identify: a 50-character first name and a 300-character tag arrive cut, the rest as sent', async () => {
    const result = await deliver(
      event({
        type: 'identify',
        userId: 'u-len',
        traits: { firstName: 'P'.repeat(50), tags: ['t'.repeat(300)] },
      }),
    )
    const user = await userOf('u-len')
    expect(user?.first_name).toBe('P'.repeat(40))
    expect(user?.tags).toEqual(['t'.repeat(255)])
    expect(result.dropped.map(d => d.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^truncated to 40/),
        expect.stringMatching(/^truncated to 255/),
      ]),
    )
  })

  it('track: a 300-character event name is recorded cut to 255', async () => {
    const result = await deliver(
      event({ type: 'track', userId: 'u-ev', event: 'E'.repeat(300), properties: {} }),
    )
    expect((await state()).events.map(e => e.name)).toEqual(['E'.repeat(255)])
    expect(result.dropped).toEqual([{ field: 'event', reason: 'truncated to 255 characters (name)' }])
  })
})

describe('attribute names over 32 characters never collide', () => {
  it('two long Engage audience names become two attributes, each with its own value', async () => {
    await deliver(
      event({
        type: 'identify',
        userId: 'u-aud',
        traits: {
          order_completed_last_30days_high_value_customers: true,
          order_completed_last_30days_high_value_churned: false,
        },
      }),
    )
    const names = (await state()).attributes.map(a => a.name_std).sort()
    expect(names).toEqual(['order_completed_last_30da_284b4f', 'order_completed_last_30da_55dc26'])
    expect((await userOf('u-aud'))?.attributes).toEqual({
      order_completed_last_30da_284b4f: 'true',
      order_completed_last_30da_55dc26: 'false',
    })
  })
})

describe('future timestamps', () => {
  it('a track stamped 2150 is recorded at receivedAt', async () => {
    await deliver(
      event({
        type: 'track',
        userId: 'u-fut',
        event: 'Clock Skew',
        timestamp: '2150-01-01T00:00:00Z',
        properties: {},
      }),
    )
    expect((await state()).events.map(e => e.timestamp)).toEqual([Date.parse(RECEIVED_AT) / 1000])
  })
})

describe('null clears, omitted keeps', () => {
  it('"email": null and "phone": null clear the fields; an omitted first name keeps its value', async () => {
    await deliver(
      event({
        type: 'identify',
        userId: 'u-null',
        traits: { email: 'p@example.com', phone: '+48601234567', firstName: 'Peter' },
      }),
    )
    await deliver(event({ type: 'identify', userId: 'u-null', traits: { email: null, phone: null } }))
    expect(await userOf('u-null')).toMatchObject({ email: null, phone_number: null, first_name: 'Peter' })
  })
})

describe('national phone numbers', () => {
  it.each(['United States', 'USA', 'US'])(
    '"(415) 555-0132" with address.country %s is +14155550132',
    async country => {
      const userId = `u-phone-${country.replace(/\s/g, '')}`
      await deliver(
        event({ type: 'identify', userId, traits: { phone: '(415) 555-0132', address: { country } } }),
      )
      expect((await userOf(userId))?.phone_number).toBe('+14155550132')
    },
  )

  it('a number that cannot be made E.164 is dropped and reported; the identify lands', async () => {
    const result = await deliver(
      event({
        type: 'identify',
        userId: 'u-badphone',
        traits: { phone: '555-0132', email: 'x@example.com' },
      }),
    )
    expect(await userOf('u-badphone')).toMatchObject({ phone_number: null, email: 'x@example.com' })
    expect(result.dropped.map(d => d.field)).toContain('traits.phone')
  })
})

describe('context fields that are read-only standard fields', () => {
  it('context.screen and a user agent become custom attributes; no read-only field is sent', async () => {
    const result = await deliver(
      event({
        type: 'identify',
        userId: 'u-ctx',
        traits: { email: 'c@example.com' },
        context: {
          screen: { width: 1920, height: 1080 },
          userAgent:
            'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
        },
      }),
    )
    const user = await userOf('u-ctx')
    expect(user?.attributes).toMatchObject({ screen_resolution: '1920x1080', browser_family: 'Chrome' })
    const names = (await state()).attributes.map(a => a.name_std)
    expect(names).not.toContain('resolution')
    expect(names).not.toContain('browser')
    expect(result.dropped.filter(d => d.reason.startsWith('refused'))).toEqual([])
  })
})

describe('reserved traits kept', () => {
  it('createdAt becomes the datetime attribute signed_up_at; gender "other" is 1 (unknown)', async () => {
    await deliver(
      event({
        type: 'identify',
        userId: 'u-res',
        traits: { createdAt: '2023-02-03T04:05:06Z', gender: 'other' },
      }),
    )
    const attribute = (await state()).attributes.find(a => a.name_std === 'signed_up_at')
    expect(attribute?.value_type).toBe('datetime')
    const user = await userOf('u-res')
    expect(user?.attributes).toEqual({ signed_up_at: '2023-02-03T04:05:06.000Z' })
    expect(user?.gender).toBe(1)
  })

  it('gender "other" after "male" sets 1 (unknown): it is not dropped', async () => {
    await deliver(event({ type: 'identify', userId: 'u-g', traits: { gender: 'male' } }))
    expect((await userOf('u-g'))?.gender).toBe(2)
    await deliver(event({ type: 'identify', userId: 'u-g', traits: { gender: 'other' } }))
    expect((await userOf('u-g'))?.gender).toBe(1)
  })
})
