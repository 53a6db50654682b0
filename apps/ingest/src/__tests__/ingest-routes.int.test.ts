import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, waitUntilReady, type EventsQueue } from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import {
  auth,
  gzipJson,
  identify,
  json,
  mid,
  post,
  queuedJob,
  testApp,
  track,
  untilReady,
  WRITE_KEY,
} from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)

let app: FastifyInstance
let redis: Redis
let queue: EventsQueue
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  ;({ app } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }))
  redis = createRedisConnection(url, 'producer')
  await waitUntilReady(redis)
  queue = createEventsQueue(redis, prefix)
  closers.push(
    () => app.close(),
    () => queue.close(),
    () => redis.quit(),
  )
  await Promise.all([untilReady(app)])
})

afterAll(async () => {
  for (const close of closers) await close()
  await cleanupPrefix(url, prefix)
})

const jobOf = (tenantId: string, messageId: string, from: EventsQueue = queue) =>
  queuedJob(from, tenantId, messageId)

const bodies: Record<string, (messageId: string) => Record<string, unknown>> = {
  identify: messageId => identify({ messageId }),
  track: messageId => track({ messageId }),
  page: messageId => ({ userId: '019mr8mf4r', name: 'Tracking HTTP API', messageId }),
  group: messageId => ({
    userId: '019mr8mf4r',
    groupId: '8e9df332ac',
    traits: { name: 'Initech' },
    messageId,
  }),
  screen: messageId => ({ userId: '019mr8mf4r', name: 'Home', messageId }),
  alias: messageId => ({ previousId: '39239-239239', userId: '019mr8mf4r', messageId }),
}

describe('single-event routes', () => {
  const routes: Array<[string, string]> = [
    ['/v1/identify', 'identify'],
    ['/v1/track', 'track'],
    ['/v1/page', 'page'],
    ['/v1/group', 'group'],
    ['/v1/i', 'identify'],
    ['/v1/t', 'track'],
    ['/v1/p', 'page'],
    ['/v1/g', 'group'],
    // Delivered as a merge while the tenant has mergeAnonymous (its default).
    ['/v1/alias', 'alias'],
    ['/v1/a', 'alias'],
  ]
  it.each(routes)(
    '%s enqueues one normalised %s job for the tenant, without the write key',
    async (path, type) => {
      const messageId = mid(type)
      const response = await post(app, path, { ...bodies[type]!(messageId), writeKey: WRITE_KEY })
      expect(response.statusCode).toBe(200)
      expect(json(response)).toEqual({
        success: true,
        accepted: 1,
        duplicate: 0,
        filtered: 0,
        notDelivered: 0,
        invalid: 0,
      })
      const stored = await jobOf('default', messageId)
      expect(stored?.data).toMatchObject({
        tenantId: 'default',
        event: { type, messageId, userId: '019mr8mf4r' },
      })
      expect(stored?.job.name).toBe(type)
      expect(stored?.job.opts.removeOnComplete).toBe(true)
      expect(new Date(stored!.data.receivedAt).getTime()).toBeGreaterThan(Date.now() - 60_000)
      expect(JSON.stringify(stored?.data)).not.toContain(WRITE_KEY)
      expect(JSON.stringify(stored?.data)).not.toContain('writeKey')
    },
  )

  it.each([
    ['/v1/screen', 'screen'],
    ['/v1/s', 'screen'],
  ])('%s answers 200 and enqueues nothing (%s is not delivered)', async (path, type) => {
    const messageId = mid(type)
    const response = await post(app, path, bodies[type]!(messageId))
    expect(json(response)).toMatchObject({ success: true, accepted: 0, notDelivered: 1 })
    expect(await jobOf('default', messageId)).toBeUndefined()
  })

  it('gives an event without messageId one, and enqueues it', async () => {
    const before = await queue.getWaitingCount()
    const response = await post(app, '/v1/track', track({ event: 'No Id' }))
    expect(json(response)).toMatchObject({ accepted: 1 })
    expect(await queue.getWaitingCount()).toBe(before + 1)
  })
})

describe('batch routes', () => {
  it.each(['/v1/batch', '/v1/import', '/v1/b'])('%s enqueues the delivered types of a batch', async path => {
    const ids = Object.fromEntries(Object.keys(bodies).map(type => [type, mid(type)]))
    const batch = Object.entries(bodies).map(([type, body]) => ({ type, ...body(ids[type]!) }))
    const response = await post(app, path, {
      batch,
      writeKey: WRITE_KEY,
      sentAt: new Date().toISOString(),
      context: { library: { name: 'analytics-go', version: '3.0.0' } },
    })
    expect(response.statusCode).toBe(200)
    expect(json(response)).toMatchObject({ success: true, accepted: 5, notDelivered: 1, invalid: 0 })
    for (const type of ['identify', 'track', 'page', 'group', 'alias']) {
      const stored = await jobOf('default', ids[type]!)
      expect(stored?.data.event.type).toBe(type)
      // Batch-level context is merged into each event.
      expect(stored?.data.event.context).toMatchObject({ library: { name: 'analytics-go' } })
    }
    expect(await jobOf('default', ids.screen!)).toBeUndefined()
  })

  it('enqueues the valid events of a partly invalid batch and reports the others', async () => {
    const good = mid('good')
    const response = await post(app, '/v1/batch', {
      batch: [{ type: 'track', ...track({ messageId: good }) }, { type: 'track', userId: 'u' }, 7],
    })
    expect(response.statusCode).toBe(200)
    expect(json(response)).toMatchObject({ accepted: 1, invalid: 2 })
    expect(json(response).errors.map((e: { index: number }) => e.index)).toEqual([1, 2])
    expect(await jobOf('default', good)).toBeDefined()
  })

  it('takes gzip batches', async () => {
    const messageId = mid('gz')
    const response = await post(
      app,
      '/v1/batch',
      gzipJson({ batch: [{ type: 'identify', ...identify({ messageId }) }] }),
      {
        ...auth,
        'content-encoding': 'gzip',
        'content-type': 'text/plain',
      },
    )
    expect(json(response)).toMatchObject({ accepted: 1 })
    expect(await jobOf('default', messageId)).toBeDefined()
  })

  it('does not enqueue events the integrations object turns off', async () => {
    const messageId = mid('off')
    const response = await post(app, '/v1/batch', {
      batch: [{ type: 'identify', ...identify({ messageId }) }],
      integrations: { All: false },
    })
    expect(json(response)).toMatchObject({ accepted: 0, filtered: 1 })
    expect(await jobOf('default', messageId)).toBeUndefined()
  })
})

describe('Segment Webhooks route', () => {
  it('enqueues one forwarded event or an array of them', async () => {
    const one = mid('wh')
    const r1 = await post(app, '/v1/webhook', {
      version: 1,
      type: 'track',
      userId: '019mr8mf4r',
      event: 'Purchased an Item',
      properties: { revenue: '39.95' },
      timestamp: '2012-12-02T00:30:08.276Z',
      messageId: one,
    })
    expect(json(r1)).toMatchObject({ accepted: 1 })
    expect((await jobOf('default', one))?.data.event).toMatchObject({
      type: 'track',
      event: 'Purchased an Item',
    })

    const [a, b] = [mid('wh'), mid('wh')]
    const r2 = await post(app, '/v1/webhook', [
      { type: 'identify', ...identify({ messageId: a }) },
      { type: 'page', ...bodies.page!(b) },
    ])
    expect(json(r2)).toMatchObject({ accepted: 2 })
    expect(await jobOf('default', a)).toBeDefined()
    expect(await jobOf('default', b)).toBeDefined()
  })
})
