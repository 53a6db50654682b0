import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { FastifyInstance } from 'fastify'
import { auth, basic, gzipJson, json, memoryApp, post, scrape, track, type MemoryProducer } from './helpers'

// Hostile traffic at the ingest (issue 18): CORS only where browsers need it and without
// credentials, /metrics off the public port, a cap on items per batch, and a wrong Basic key refused
// before the body is read.

let app: FastifyInstance
let producer: MemoryProducer

beforeAll(async () => {
  ;({ app, producer } = await memoryApp({ INGEST_MAX_BATCH_ITEMS: '50' }))
})
afterAll(async () => {
  await app.close()
})

const origin = 'https://shop.example.com'
const preflight = (url: string) =>
  app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization',
    },
  })

describe('CORS', () => {
  it('allows any origin on the tracking routes, never with credentials', async () => {
    const response = await preflight('/v1/track')
    expect(response.headers['access-control-allow-origin']).toBe(origin)
    expect(response.headers['access-control-allow-credentials']).toBeUndefined()
    const answer = await post(app, '/v1/t', track(), { ...auth, origin })
    expect(answer.statusCode).toBe(200)
    expect(answer.headers['access-control-allow-origin']).toBe(origin)
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('sends no CORS headers outside the tracking routes', async () => {
    for (const url of ['/health/ready', '/health/live']) {
      const response = await app.inject({ method: 'GET', url, headers: { origin } })
      expect(response.headers['access-control-allow-origin']).toBeUndefined()
      expect((await preflight(url)).headers['access-control-allow-origin']).toBeUndefined()
    }
  })
})

describe('/metrics', () => {
  it('is not served on the public port, only by the metrics app', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404)
    const metrics = await scrape(app)
    expect(metrics.statusCode).toBe(200)
    expect(metrics.body).toContain('ucd_ingest_requests_total')
  })
})

describe('items per batch', () => {
  const items = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({ ...track({ messageId: `${tag}-${i}` }), type: 'track' }))

  it('accepts a batch of INGEST_MAX_BATCH_ITEMS items', async () => {
    const response = await post(app, '/v1/batch', { batch: items(50, 'cap-ok') })
    expect(response.statusCode).toBe(200)
    expect(json(response)).toMatchObject({ accepted: 50 })
  })

  it('answers 400 with a reason to one more, on batches and webhook arrays, storing nothing', async () => {
    const stored = producer.jobs.length
    for (const [url, body] of [
      ['/v1/batch', { batch: items(51, 'cap-over') }],
      ['/v1/b', { batch: items(51, 'cap-over-b') }],
      ['/v1/webhook', items(51, 'cap-over-w')],
    ] as const) {
      const response = await post(app, url, body)
      expect(response.statusCode).toBe(400)
      expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_TOO_MANY_ITEMS' })
      expect(json(response).message).toContain('at most 50 events')
    }
    expect(producer.jobs.length).toBe(stored)
  })
})

describe('authentication', () => {
  it('refuses a wrong Basic key before reading or decompressing the body', async () => {
    const before = (await scrape(app)).body
    const bomb = gzipJson({ batch: Array.from({ length: 20_000 }, () => ({})) })
    const response = await post(app, '/v1/batch', bomb, {
      authorization: basic('not-a-key'),
      'content-encoding': 'gzip',
    })
    expect(response.statusCode).toBe(401)
    expect(json(response).code).toBe('UCD_ERR_INVALID_WRITE_KEY')
    // The body was never read: its size was not recorded.
    const count = (text: string) =>
      /ucd_ingest_request_body_bytes_count\{route="\/v1\/batch",encoding="gzip"\} (\d+)/.exec(text)?.[1] ??
      '0'
    expect(count((await scrape(app)).body)).toBe(count(before))
  })
})
