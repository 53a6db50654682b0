import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { FastifyInstance } from 'fastify'
import { deliveredTypesOf } from '../triage'
import { basic, json, memoryApp, post, type MemoryProducer } from './helpers'

// Which types a tenant's events are enqueued for: screen with `screens: "event"`, alias with
// `mergeAnonymous` (default on); otherwise 200 and `notDelivered`, never a job.

const tenants = [
  { id: 'merging', writeKeys: ['wk_merging'], usercom: { apiKey: 'k1', baseUrl: 'http://127.0.0.1:9/' } },
  {
    id: 'screens',
    writeKeys: ['wk_screens'],
    usercom: { apiKey: 'k2', baseUrl: 'http://127.0.0.1:9/' },
    screens: 'event',
    mergeAnonymous: false,
  },
]
let app: FastifyInstance
let producer: MemoryProducer

beforeAll(async () => {
  ;({ app, producer } = await memoryApp({}, { tenantsFile: JSON.stringify(tenants) }))
})
afterAll(async () => {
  await app.close()
})

const send = (writeKey: string, body: unknown) =>
  post(app, '/v1/batch', body, { authorization: basic(writeKey) })
const batch = (tag: string) => ({
  batch: [
    { type: 'alias', previousId: `anon-${tag}`, userId: `u-${tag}`, messageId: `alias-${tag}` },
    { type: 'screen', userId: `u-${tag}`, name: 'Home', messageId: `screen-${tag}` },
    { type: 'track', userId: `u-${tag}`, event: 'E', messageId: `track-${tag}` },
  ],
})

describe('delivered types per tenant', () => {
  it('mergeAnonymous (default): alias is enqueued; screens off: screen is not', async () => {
    const response = await send('wk_merging', batch('m'))
    expect(json(response)).toMatchObject({ success: true, accepted: 2, notDelivered: 1 })
    const jobs = producer.jobs.filter(j => j.tenantId === 'merging').map(j => j.event.type)
    expect(jobs.sort()).toEqual(['alias', 'track'])
  })

  it('screens "event" and mergeAnonymous false: screen is enqueued, alias is not', async () => {
    const response = await send('wk_screens', batch('s'))
    expect(json(response)).toMatchObject({ success: true, accepted: 2, notDelivered: 1 })
    const jobs = producer.jobs.filter(j => j.tenantId === 'screens').map(j => j.event.type)
    expect(jobs.sort()).toEqual(['screen', 'track'])
  })

  it('deliveredTypesOf', () => {
    expect([...deliveredTypesOf({ screens: 'off', mergeAnonymous: false })].sort()).toEqual([
      'group',
      'identify',
      'page',
      'track',
    ])
    expect(deliveredTypesOf({ screens: 'event', mergeAnonymous: true }).has('screen')).toBe(true)
    expect(deliveredTypesOf({ screens: 'event', mergeAnonymous: true }).has('alias')).toBe(true)
  })
})
