import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, waitUntilReady, type EventsQueue } from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { auth, identify, json, mid, post, queuedJob, testApp, track, untilReady } from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)

let app: FastifyInstance
let proxied: FastifyInstance
let signed: FastifyInstance
const WEBHOOK_SECRET = 'whsec_test_0123456789'
let redis: Redis
let queue: EventsQueue
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  ;({ app } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }))
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
  closers.push(
    () => app.close(),
    () => proxied.close(),
    () => signed.close(),
    () => queue.close(),
    () => redis.quit(),
  )
  await Promise.all([untilReady(app), untilReady(proxied), untilReady(signed)])
})

afterAll(async () => {
  for (const close of closers) await close()
  await cleanupPrefix(url, prefix)
})

const jobOf = (tenantId: string, messageId: string, from: EventsQueue = queue) =>
  queuedJob(from, tenantId, messageId)

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
