import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  createRedisConnection,
  dedupeKey,
  EventJobDataSchema,
  eventJobId,
  waitUntilReady,
  type EventsQueue,
} from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import {
  auth,
  basic,
  gzipJson,
  identify,
  json,
  post,
  scrape,
  testApp,
  track,
  untilReady,
  WRITE_KEY,
} from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const noDedupePrefix = uniquePrefix(`${__filename}-nodd`)
const brokenPrefix = uniquePrefix(`${__filename}-broken`)

const tenantsFile = JSON.stringify([
  { id: 'acme', writeKeys: ['wk_acme_0001'], usercom: { apiKey: 'uc_acme', baseUrl: 'http://127.0.0.1:1/' } },
  {
    id: 'globex',
    writeKeys: ['wk_globex_0001'],
    usercom: { apiKey: 'uc_globex', baseUrl: 'http://127.0.0.1:1/' },
  },
])

let app: FastifyInstance
let multi: FastifyInstance
let noDedupe: FastifyInstance
let proxied: FastifyInstance
let signed: FastifyInstance
const WEBHOOK_SECRET = 'whsec_test_0123456789'
let redis: Redis
let queue: EventsQueue
let noDedupeQueue: EventsQueue
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  ;({ app } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }))
  ;({ app: multi } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }, { tenantsFile }))
  ;({ app: noDedupe } = await testApp({
    REDIS_URL: url,
    QUEUE_PREFIX: noDedupePrefix,
    DEDUPE_WINDOW_MINUTES: '0',
  }))
  ;({ app: signed } = await testApp({
    REDIS_URL: url,
    QUEUE_PREFIX: prefix,
    SEGMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  }))
  ;({ app: proxied } = await testApp({
    REDIS_URL: url,
    QUEUE_PREFIX: prefix,
    INGEST_TRUST_PROXY: 'loopback',
  }))
  redis = createRedisConnection(url, 'producer')
  await waitUntilReady(redis)
  queue = createEventsQueue(redis, prefix)
  noDedupeQueue = createEventsQueue(redis, noDedupePrefix)
  closers.push(
    () => app.close(),
    () => multi.close(),
    () => noDedupe.close(),
    () => proxied.close(),
    () => signed.close(),
    () => queue.close(),
    () => noDedupeQueue.close(),
    () => redis.quit(),
  )
  await Promise.all([
    untilReady(app),
    untilReady(multi),
    untilReady(noDedupe),
    untilReady(proxied),
    untilReady(signed),
  ])
})

afterAll(async () => {
  for (const close of closers) await close()
  for (const p of [prefix, noDedupePrefix, brokenPrefix]) await cleanupPrefix(url, p)
})

let counter = 0
const mid = (hint: string): string => `${hint}-${++counter}-${Date.now()}`

async function jobOf(tenantId: string, messageId: string, from: EventsQueue = queue) {
  const job = await from.getJob(eventJobId(tenantId, messageId))
  if (!job) return undefined
  return { job, data: EventJobDataSchema.parse(job.data) }
}

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

describe('context.ip from the caller (segment-spec.md §1, §3)', () => {
  const ipAfter = async (
    target: FastifyInstance,
    path: string,
    body: Record<string, unknown> | Record<string, unknown>[],
    options: { remoteAddress?: string; headers?: Record<string, string> } = {},
  ): Promise<unknown> => {
    const response = await target.inject({
      method: 'POST',
      url: path,
      headers: { ...auth, ...options.headers },
      remoteAddress: options.remoteAddress ?? '203.0.113.7',
      payload: JSON.stringify(body),
    })
    expect(json(response)).toMatchObject({ accepted: 1 })
    const item = Array.isArray(body)
      ? body[0]!
      : 'batch' in body
        ? (body.batch as Record<string, unknown>[])[0]!
        : body
    const event = (await jobOf('default', String(item.messageId)))?.data.event
    expect(event).toBeDefined()
    return event?.context.ip
  }

  it.each([
    ['/v1/t', (m: string) => track({ messageId: m })],
    ['/v1/b', (m: string) => ({ batch: [{ type: 'track', ...track({ messageId: m }) }] })],
  ])("a client route (%s) gives events the caller's address", async (path, body) => {
    expect(await ipAfter(app, path, body(mid('ip')))).toBe('203.0.113.7')
  })

  it('a server route does not, unless the event says context.direct: true', async () => {
    expect(await ipAfter(app, '/v1/track', track({ messageId: mid('ip') }))).toBeUndefined()
    expect(
      await ipAfter(app, '/v1/batch', { batch: [{ type: 'track', ...track({ messageId: mid('ip') }) }] }),
    ).toBeUndefined()
    const direct = track({ messageId: mid('ip'), context: { direct: true } })
    expect(await ipAfter(app, '/v1/track', direct)).toBe('203.0.113.7')
  })

  it('an address the event carries wins', async () => {
    const event = track({ messageId: mid('ip'), context: { ip: '198.51.100.1' } })
    expect(await ipAfter(app, '/v1/t', event)).toBe('198.51.100.1')
  })

  it('the webhook route never does: its caller is Segment', async () => {
    const event = { type: 'track', ...track({ messageId: mid('ip'), context: { direct: true } }) }
    expect(await ipAfter(app, '/v1/webhook', event)).toBeUndefined()
  })

  it('X-Forwarded-For counts only from a proxy INGEST_TRUST_PROXY trusts', async () => {
    const forwarded = { 'x-forwarded-for': '192.0.2.44' }
    // Not trusted by default: the header is ignored, the socket's peer is the caller.
    expect(await ipAfter(app, '/v1/t', track({ messageId: mid('ip') }), { headers: forwarded })).toBe(
      '203.0.113.7',
    )
    // INGEST_TRUST_PROXY=loopback: a proxy on 127.0.0.1 is believed, a peer elsewhere is not.
    const viaProxy = { remoteAddress: '127.0.0.1', headers: forwarded }
    expect(await ipAfter(proxied, '/v1/t', track({ messageId: mid('ip') }), viaProxy)).toBe('192.0.2.44')
    const spoofed = { remoteAddress: '203.0.113.7', headers: forwarded }
    expect(await ipAfter(proxied, '/v1/t', track({ messageId: mid('ip') }), spoofed)).toBe('203.0.113.7')
  })
})

describe('Segment Webhooks X-Signature (a tenant with a webhook secret)', () => {
  const sign = (text: string, secret = WEBHOOK_SECRET) =>
    createHmac('sha1', secret).update(text).digest('hex')
  const send = (body: string, signature?: string) =>
    post(signed, '/v1/webhook', body, {
      ...auth,
      ...(signature === undefined ? {} : { 'x-signature': signature }),
    })

  it('accepts an event signed over its body, and a batch signed over its first event', async () => {
    const one = JSON.stringify({ type: 'track', ...track({ messageId: mid('sig') }) })
    expect(json(await send(one, sign(one)))).toMatchObject({ accepted: 1 })

    const events = [
      { type: 'track', ...track({ messageId: mid('sig') }) },
      { type: 'identify', ...identify({ messageId: mid('sig') }) },
    ]
    const response = await send(JSON.stringify(events), sign(JSON.stringify(events[0])))
    expect(json(response)).toMatchObject({ accepted: 2 })
  })

  it.each([
    ['missing', undefined, 'UCD_ERR_MISSING_SIGNATURE'],
    ['made with another secret', 'other', 'UCD_ERR_INVALID_SIGNATURE'],
    ['not hex', 'zz', 'UCD_ERR_INVALID_SIGNATURE'],
  ])('refuses a signature %s with 401 and enqueues nothing', async (_name, kind, code) => {
    const messageId = mid('sig')
    const body = JSON.stringify({ type: 'track', ...track({ messageId }) })
    const signature = kind === undefined ? undefined : kind === 'other' ? sign(body, 'not-the-secret') : kind
    const response = await send(body, signature)
    expect(response.statusCode).toBe(401)
    expect(json(response)).toMatchObject({ success: false, code })
    expect(await jobOf('default', messageId)).toBeUndefined()
  })

  it('a body changed after signing is refused; the other routes need no signature', async () => {
    const body = JSON.stringify({ type: 'track', ...track({ messageId: mid('sig') }) })
    const tampered = body.replace('Item Purchased', 'Item Refunded')
    expect((await send(tampered, sign(body))).statusCode).toBe(401)
    const plain = await post(signed, '/v1/track', track({ messageId: mid('sig') }))
    expect(json(plain)).toMatchObject({ accepted: 1 })
  })
})

describe('dedupe by (tenant, messageId)', () => {
  it('keeps one job when the same messageId comes twice, and says so', async () => {
    const messageId = mid('dup')
    const first = await post(app, '/v1/track', track({ messageId }))
    const second = await post(app, '/v1/t', track({ messageId }))
    expect(json(first)).toMatchObject({ accepted: 1, duplicate: 0 })
    expect(second.statusCode).toBe(200)
    expect(json(second)).toMatchObject({ accepted: 0, duplicate: 1 })
    const jobs = await queue.getJobs(['waiting'])
    expect(jobs.filter(j => j.data.event.messageId === messageId)).toHaveLength(1)
  })

  it('keeps one job when a batch holds the same messageId twice', async () => {
    const messageId = mid('dup-batch')
    const response = await post(app, '/v1/batch', {
      batch: [
        { type: 'track', ...track({ messageId }) },
        { type: 'track', ...track({ messageId }) },
      ],
    })
    expect(json(response)).toMatchObject({ accepted: 1, duplicate: 1 })
  })

  it('remembers with a small marker with the window as TTL, not with the job', async () => {
    const messageId = mid('marker')
    await post(app, '/v1/identify', identify({ messageId }))
    const key = dedupeKey(prefix, 'default', messageId)
    expect(await redis.get(key)).toBe('1')
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(1440 * 60_000 - 60_000)
    expect(ttl).toBeLessThanOrEqual(1440 * 60_000)
    // A worker completes the job (removeOnComplete): the event is still a duplicate.
    await (await queue.getJob(eventJobId('default', messageId)))!.remove()
    const again = await post(app, '/v1/identify', identify({ messageId }))
    expect(json(again)).toMatchObject({ accepted: 0, duplicate: 1 })
    expect(await queue.getJob(eventJobId('default', messageId))).toBeUndefined()
  })

  it('scopes messageIds per tenant', async () => {
    const messageId = mid('tenant')
    const acme = await post(multi, '/v1/track', track({ messageId }), {
      authorization: basic('wk_acme_0001'),
    })
    const globex = await post(multi, '/v1/track', track({ messageId, writeKey: 'wk_globex_0001' }), {})
    expect(json(acme)).toMatchObject({ accepted: 1 })
    expect(json(globex)).toMatchObject({ accepted: 1 })
    expect((await jobOf('acme', messageId))?.data.tenantId).toBe('acme')
    expect((await jobOf('globex', messageId))?.data.tenantId).toBe('globex')
    const acmeAgain = await post(multi, '/v1/track', track({ messageId }), {
      authorization: basic('wk_acme_0001'),
    })
    expect(json(acmeAgain)).toMatchObject({ duplicate: 1 })
    // The single-tenant key is not a key of this deployment.
    expect((await post(multi, '/v1/track', track(), auth)).statusCode).toBe(401)
  })

  it('is off with DEDUPE_WINDOW_MINUTES=0: no markers, a completed event can come again', async () => {
    const messageId = mid('nodd')
    const first = await post(noDedupe, '/v1/track', track({ messageId }))
    expect(json(first)).toMatchObject({ accepted: 1 })
    expect(await redis.exists(dedupeKey(noDedupePrefix, 'default', messageId))).toBe(0)
    await (await noDedupeQueue.getJob(eventJobId('default', messageId)))!.remove()
    const again = await post(noDedupe, '/v1/track', track({ messageId }))
    expect(json(again)).toMatchObject({ accepted: 1, duplicate: 0 })
    expect(await noDedupeQueue.getJob(eventJobId('default', messageId))).toBeDefined()
  })
})

describe('when addBulk fails', () => {
  it('answers 503, keeps no marker, and accepts the retry once Redis works', async () => {
    const { app: broken } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: brokenPrefix })
    closers.push(() => broken.close())
    await untilReady(broken)
    // BullMQ's add script INCRs this key: a value that is not a number makes every add fail.
    await redis.set(`${brokenPrefix}:events:id`, 'not-a-number')
    const messageId = mid('broken')
    const failed = await post(broken, '/v1/track', track({ messageId }))
    expect(failed.statusCode).toBe(503)
    expect(json(failed).code).toBe('UCD_ERR_UNAVAILABLE')
    expect(await redis.exists(dedupeKey(brokenPrefix, 'default', messageId))).toBe(0)
    const metrics = await scrape(broken)
    expect(metrics.body).toMatch(/ucd_ingest_redis_errors_total\{op="enqueue"\} 1/)

    await redis.del(`${brokenPrefix}:events:id`)
    const retried = await post(broken, '/v1/track', track({ messageId }))
    expect(json(retried)).toMatchObject({ accepted: 1, duplicate: 0 })
    expect(await redis.get(dedupeKey(brokenPrefix, 'default', messageId))).toBe('1')
  })
})

describe('operations with Redis', () => {
  it('is ready, and counts accepted and duplicate events', async () => {
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(json(ready)).toEqual({ status: 'ready', redis: true })
    const text = (await scrape(app)).body
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="accepted",type="track"\} [1-9]/)
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="duplicate",type="track"\} [1-9]/)
    expect(text).toMatch(/ucd_ingest_enqueue_duration_seconds_count\{result="ok"\} [1-9]/)
    expect(text).toMatch(/ucd_ingest_redis_up 1/)
  })
})
