import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { FastifyInstance } from 'fastify'
import { INGEST_ROUTES } from '../routes/tracking'
import {
  auth,
  basic,
  gzipJson,
  identify,
  json,
  memoryApp,
  post as postTo,
  scrape,
  screen,
  track,
  WRITE_KEY,
  type MemoryProducer,
} from './helpers'

// Everything here runs without Redis: the app gets an in-memory producer (helpers.ts), which a test
// turns unavailable to see the 503 answers. Redis-backed behaviour (the real EventProducer, dedupe
// markers, outages) is in the *.int.test.ts files.

let app: FastifyInstance
let lines: string[]
let producer: MemoryProducer
const receivedAt = new Date('2024-05-01T12:00:00.000Z')
beforeAll(async () => {
  ;({ app, lines, producer } = await memoryApp({}, { now: () => receivedAt }))
})

/** Runs `body` while the producer answers as EventProducer does with Redis away. */
async function withRedisAway(body: () => Promise<void>): Promise<void> {
  producer.available = false
  try {
    await body()
  } finally {
    producer.available = true
  }
}
afterAll(async () => {
  await app.close()
})

const post = (url: string, payload: unknown, headers?: Record<string, string>) =>
  postTo(app, url, payload, headers)

describe('routes', () => {
  it('answers every Segment route, each asking for a write key, and /v1/m without one', async () => {
    expect(INGEST_ROUTES).toEqual(
      expect.arrayContaining([
        ...['identify', 'track', 'page', 'screen', 'group', 'alias'].map(t => `/v1/${t}`),
        ...['i', 't', 'p', 's', 'g', 'a', 'batch', 'import', 'b', 'webhook', 'm'].map(t => `/v1/${t}`),
      ]),
    )
    for (const route of INGEST_ROUTES) {
      const response = await post(route, { userId: 'u' }, {})
      if (route === '/v1/m') {
        expect(response.statusCode).toBe(200)
        expect(json(response)).toEqual({ success: true })
      } else {
        expect({ route, status: response.statusCode }).toEqual({ route, status: 401 })
        expect(json(response).code).toBe('UCD_ERR_MISSING_WRITE_KEY')
      }
    }
  })

  it('/v1/m takes anything, even what is not JSON', async () => {
    const response = await post('/v1/m', 'not json at all', { 'content-type': 'text/plain' })
    expect(response.statusCode).toBe(200)
  })

  it('answers 404 with a JSON reason elsewhere, and for GET on an ingest route', async () => {
    for (const [method, url] of [
      ['POST', '/v1/nope'],
      ['GET', '/v1/track'],
      ['GET', '/'],
    ] as const) {
      const response = await app.inject({ method, url })
      expect(response.statusCode).toBe(404)
      expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_NOT_FOUND' })
    }
  })

  it('routes single events by path: the path decides the type', async () => {
    const long = await post('/v1/screen', screen({ type: 'track' }))
    expect(json(long)).toMatchObject({ success: true, notDelivered: 1, accepted: 0 })
    const short = await post('/v1/s', screen())
    expect(json(short)).toMatchObject({ success: true, notDelivered: 1 })
    // alias is delivered (a merge) while the tenant has mergeAnonymous, its default.
    const alias = await post('/v1/a', { previousId: 'anon-1', userId: 'u-1' })
    expect(json(alias)).toMatchObject({ success: true, accepted: 1 })
    const aliasLong = await post('/v1/alias', { previousId: 'anon-2', userId: 'u-1' })
    expect(json(aliasLong)).toMatchObject({ success: true, accepted: 1 })
  })
})

describe('auth', () => {
  const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    ['Basic "<key>:"', { authorization: basic(WRITE_KEY) }, screen()],
    [
      'Basic "<key>" without a colon',
      { authorization: `Basic ${Buffer.from(WRITE_KEY).toString('base64')}` },
      screen(),
    ],
    ['Basic with a password', { authorization: basic(WRITE_KEY, 'ignored') }, screen()],
    ['writeKey in the body', {}, screen({ writeKey: WRITE_KEY })],
    [
      'Bearer plus writeKey in the body',
      { authorization: 'Bearer some.oauth.token' },
      screen({ writeKey: WRITE_KEY }),
    ],
  ]
  it.each(cases)('accepts %s', async (_name, headers, body) => {
    const response = await post('/v1/screen', body, headers)
    expect(response.statusCode).toBe(200)
  })

  it('accepts a batch-level writeKey', async () => {
    const response = await post(
      '/v1/batch',
      { batch: [{ type: 'screen', ...screen() }], writeKey: WRITE_KEY },
      {},
    )
    expect(response.statusCode).toBe(200)
  })

  it('answers 401 with a JSON reason for a missing or unknown key', async () => {
    const missing = await post('/v1/screen', screen(), {})
    expect(missing.statusCode).toBe(401)
    expect(json(missing)).toMatchObject({ success: false, code: 'UCD_ERR_MISSING_WRITE_KEY' })
    expect(json(missing).message).toMatch(/Basic/)

    const bearerOnly = await post('/v1/screen', screen(), { authorization: 'Bearer some.oauth.token' })
    expect(json(bearerOnly).code).toBe('UCD_ERR_MISSING_WRITE_KEY')

    for (const [headers, body] of [
      [{ authorization: basic('wk_unknown') }, screen()],
      [{}, screen({ writeKey: 'wk_unknown' })],
      // The header decides: a wrong Basic key is refused even with the right key in the body.
      [{ authorization: basic('wk_unknown') }, screen({ writeKey: WRITE_KEY })],
    ] as const) {
      const response = await post('/v1/screen', body, headers)
      expect(response.statusCode).toBe(401)
      expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_INVALID_WRITE_KEY' })
    }
  })

  it('refuses a wrong Basic key before reading the body', async () => {
    const response = await post('/v1/batch', 'x'.repeat(600_000), { authorization: basic('wk_unknown') })
    expect(response.statusCode).toBe(401)
  })
})

describe('validation and status codes', () => {
  it('answers 400 with the problems for an invalid single event', async () => {
    const response = await post('/v1/track', { userId: 'u' })
    expect(response.statusCode).toBe(400)
    const body = json(response)
    expect(body).toMatchObject({ success: false, code: 'UCD_ERR_INVALID_EVENT' })
    expect(body.errors).toHaveLength(1)
    expect(body.errors[0]).toMatchObject({ index: 0, type: 'track' })
    expect(body.errors[0].issues.length).toBeGreaterThan(0)

    const noIds = await post('/v1/screen', { name: 'Home' })
    expect(noIds.statusCode).toBe(400)
    for (const notAnEvent of ['[]', '"text"', '42', 'null', '[{"userId":"u"}]']) {
      const r = await post('/v1/screen', notAnEvent)
      expect({ notAnEvent, status: r.statusCode }).toEqual({ notAnEvent, status: 400 })
      expect(typeof json(r).message).toBe('string')
    }
  })

  it('answers 200 for a partly invalid batch, listing the invalid events', async () => {
    const response = await post('/v1/batch', {
      batch: [
        { type: 'screen', ...screen() },
        { type: 'track', userId: 'u' },
        { type: 'nonsense', userId: 'u' },
        'not an event',
        { type: 'alias', previousId: 'a', userId: 'b' },
      ],
    })
    expect(response.statusCode).toBe(200)
    const body = json(response)
    expect(body).toMatchObject({ success: true, accepted: 1, notDelivered: 1, invalid: 3 })
    expect(body.errors.map((e: { index: number }) => e.index)).toEqual([1, 2, 3])
  })

  it('answers 400 when every event of a batch is invalid, or the batch itself is', async () => {
    const allBad = await post('/v1/b', { batch: [{ type: 'track', userId: 'u' }, { type: 'identify' }] })
    expect(allBad.statusCode).toBe(400)
    expect(json(allBad)).toMatchObject({ code: 'UCD_ERR_INVALID_EVENT' })
    expect(json(allBad).errors).toHaveLength(2)

    for (const body of [{}, { batch: 'nope' }, { batch: {} }, [screen()]]) {
      const response = await post('/v1/import', body)
      expect(response.statusCode).toBe(400)
      expect(json(response).code).toBe('UCD_ERR_INVALID_BATCH')
    }
    const empty = await post('/v1/batch', { batch: [] })
    expect(empty.statusCode).toBe(400)
    expect(json(empty).code).toBe('UCD_ERR_EMPTY_BATCH')
  })

  it('reports at most 100 invalid events in one response', async () => {
    const batch = [
      { type: 'screen', ...screen() },
      ...Array.from({ length: 150 }, () => ({ type: 'track', userId: 'u' })),
    ]
    const response = await post('/v1/batch', { batch })
    expect(response.statusCode).toBe(200)
    expect(json(response)).toMatchObject({ invalid: 150, errorsOmitted: 50 })
    expect(json(response).errors).toHaveLength(100)
  })

  it('answers 200 for events the integrations object turns off, counted as filtered', async () => {
    const response = await post('/v1/identify', identify({ integrations: { All: false } }))
    expect(response.statusCode).toBe(200)
    expect(json(response)).toMatchObject({ success: true, filtered: 1, accepted: 0 })
  })

  it('answers 503 (never 200 or 500) when an event must be enqueued and Redis is away', async () => {
    await withRedisAway(async () => {
      for (const [url, body] of [
        ['/v1/track', track()],
        ['/v1/i', identify()],
        ['/v1/batch', { batch: [{ type: 'track', ...track() }] }],
      ] as const) {
        const response = await post(url, body)
        expect(response.statusCode).toBe(503)
        expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_UNAVAILABLE' })
        expect(json(response).message).toMatch(/retry later/)
        expect(response.headers['retry-after']).toBe('1')
      }
      // What needs no enqueue is answered as usual.
      expect((await post('/v1/screen', screen())).statusCode).toBe(200)
    })
  })

  it('hands deliverable events to the producer with the tenant and receivedAt, and counts its answer', async () => {
    const before = producer.jobs.length
    const messageId = 'app-test-accepted-1'
    const response = await post('/v1/batch', {
      batch: [
        { type: 'track', ...track({ messageId }) },
        { type: 'track', ...track({ messageId }) },
        { type: 'screen', ...screen() },
        { type: 'identify', ...identify({ integrations: { All: false } }) },
      ],
    })
    expect(response.statusCode).toBe(200)
    expect(json(response)).toEqual({
      success: true,
      accepted: 1,
      duplicate: 1,
      filtered: 1,
      notDelivered: 1,
      invalid: 0,
    })
    const jobs = producer.jobs.slice(before)
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({
      tenantId: 'default',
      receivedAt: receivedAt.toISOString(),
      event: { type: 'track', messageId, event: 'Item Purchased' },
    })
    // The event carries no write key (jobs never do).
    expect(JSON.stringify(jobs[0])).not.toContain(WRITE_KEY)
  })

  it('takes Segment Webhooks bodies: one event, an array, deletion notices', async () => {
    const one = await post('/v1/webhook', { type: 'screen', ...screen() })
    expect(json(one)).toMatchObject({ success: true, notDelivered: 1 })
    const many = await post('/v1/webhook', [
      { type: 'screen', ...screen() },
      { type: 'delete', userId: 'u', messageId: 'delete-reg-1' },
      { type: 'track', userId: 'u' },
    ])
    expect(many.statusCode).toBe(200)
    expect(json(many)).toMatchObject({ success: true, notDelivered: 2, invalid: 1 })
    const invalid = await post('/v1/webhook', { userId: 'u' })
    expect(invalid.statusCode).toBe(400)
    const empty = await post('/v1/webhook', [])
    expect(json(empty).code).toBe('UCD_ERR_EMPTY_BATCH')
  })
})

describe('CORS', () => {
  it('answers the preflight of any origin, allowing Authorization and Content-Type', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/v1/t',
      headers: {
        origin: 'https://shop.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    expect(response.statusCode).toBe(204)
    expect(response.headers['access-control-allow-origin']).toBe('https://shop.example.com')
    expect(String(response.headers['access-control-allow-methods'])).toContain('POST')
    const allowed = String(response.headers['access-control-allow-headers']).toLowerCase()
    expect(allowed).toContain('authorization')
    expect(allowed).toContain('content-type')
  })

  it('sets the CORS headers on answers, errors included', async () => {
    const response = await post(
      '/v1/t',
      { event: 'x' },
      { origin: 'https://shop.example.com', 'content-type': 'text/plain' },
    )
    expect(response.statusCode).toBe(401)
    expect(response.headers['access-control-allow-origin']).toBe('https://shop.example.com')
  })
})

describe('operations', () => {
  it('is live without Redis, and not ready', async () => {
    await withRedisAway(async () => {
      const live = await app.inject({ method: 'GET', url: '/health/live' })
      expect(live.statusCode).toBe(200)
      const ready = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(ready.statusCode).toBe(503)
      expect(json(ready)).toMatchObject({ status: 'unavailable', redis: false })
    })
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(json(ready)).toEqual({ status: 'ready', redis: true })
  })

  it('exposes Prometheus metrics', async () => {
    await post('/v1/identify', identify({ integrations: { All: false } }))
    await post('/v1/s', gzipJson(screen()), { ...auth, 'content-encoding': 'gzip' })
    const response = await scrape(app)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('text/plain')
    const text = response.body
    expect(text).toMatch(/ucd_ingest_requests_total\{route="\/v1\/identify",status="200"\} \d+/)
    expect(text).toMatch(/ucd_ingest_requests_total\{route="\/v1\/screen",status="401"\} \d+/)
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="filtered",type="identify"\} \d+/)
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="not_delivered",type="screen"\} \d+/)
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="invalid",type="track"\} \d+/)
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="invalid",type="unknown"\} \d+/)
    expect(text).toMatch(
      /ucd_ingest_request_body_bytes_bucket\{le="32768",route="\/v1\/s",encoding="gzip"\} \d+/,
    )
    expect(text).toContain('# TYPE ucd_ingest_enqueue_duration_seconds histogram')
    expect(text).toMatch(/ucd_ingest_redis_up 0/)
    expect(text).toContain('process_cpu_user_seconds_total')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
    // Label values never come from client text.
    expect(text).not.toContain('nonsense')
  })

  it('logs a line per request answered with an error, without write keys or Authorization headers', async () => {
    const unknownKey = 'wk_unknown_secret_value'
    const before = lines.length
    await post('/v1/screen', screen({ writeKey: WRITE_KEY }), { authorization: basic(WRITE_KEY) })
    await post('/v1/screen', screen({ writeKey: unknownKey }), {})
    await post('/v1/screen', screen(), { authorization: basic(unknownKey) })
    await post('/v1/track', `{"writeKey":"${unknownKey}", oops`, {})
    await post('/v1/track', { type: 'track' }, auth)
    const text = lines.slice(before).join('\n')
    for (const secret of [WRITE_KEY, unknownKey, Buffer.from(`${WRITE_KEY}:`).toString('base64')]) {
      expect(text).not.toContain(secret)
    }
    const completed = lines
      .slice(before)
      .map(line => JSON.parse(line) as Record<string, unknown>)
      .filter(e => e.msg === 'request completed')
    // The 200 has no line at info (LOG_LEVEL=debug shows it); each error answer has one.
    expect(completed.map(e => e.status)).toEqual([401, 401, 400, 400])
    expect(completed.every(e => typeof e.requestId === 'string' && e.level === 30)).toBe(true)
    expect(completed[3]).toMatchObject({ tenantId: 'default', route: '/v1/track' })
  })
})

describe('request log', () => {
  it('logs successes at debug, and a requests answered summary at info', async () => {
    const built = await memoryApp({ LOG_LEVEL: 'debug' }, { requestSummaryIntervalMs: 50 })
    try {
      await postTo(built.app, '/v1/track', track(), auth)
      await postTo(built.app, '/v1/track', track({ messageId: 'm-dup' }), auth)
      await postTo(built.app, '/v1/identify', { type: 'identify' }, auth)
      const entries = (): Array<Record<string, unknown>> =>
        built.lines.map(line => JSON.parse(line) as Record<string, unknown>)
      const completed = entries().filter(e => e.msg === 'request completed')
      expect(completed.map(e => [e.status, e.level])).toEqual([
        [200, 20],
        [200, 20],
        [400, 30],
      ])
      expect(completed[0]).toMatchObject({ tenantId: 'default', route: '/v1/track', events: { accepted: 1 } })
      await new Promise(resolve => setTimeout(resolve, 120))
      const summaries = entries().filter(e => e.msg === 'requests answered')
      expect(summaries).toHaveLength(1)
      expect(summaries[0]).toMatchObject({
        level: 30,
        requests: { '2xx': 2, '4xx': 1 },
        events: { accepted: 2, invalid: 1 },
      })
    } finally {
      await built.app.close()
    }
  })

  it('writes the last summary when the app closes, and none for a quiet interval', async () => {
    const built = await memoryApp({}, { requestSummaryIntervalMs: 60_000 })
    await postTo(built.app, '/v1/track', track(), auth)
    expect(built.lines.some(line => line.includes('requests answered'))).toBe(false)
    await built.app.close()
    const summaries = built.lines.filter(line => line.includes('requests answered'))
    expect(summaries).toHaveLength(1)
    expect(JSON.parse(summaries[0]!)).toMatchObject({ requests: { '2xx': 1 }, events: { accepted: 1 } })
  })
})
