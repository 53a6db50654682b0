import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { cleanupPrefix, freePort, testRedisUrl, uniquePrefix } from '@ucd/testing'
import type { FastifyInstance } from 'fastify'
import { INGEST_ROUTES } from '../routes/tracking'
import { basic, json, scrape, testApp, track, untilReady, WRITE_KEY } from './helpers'

// Thousands of hostile requests, seeded so a failure replays. Every answer must be below 500 with
// a JSON body, a 4xx one with a code and a reason; nothing may hang or crash the process, and no
// hostile key may change how the service (or this process) behaves afterwards.

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const SEED = 20261128
const RUNS = 2500

let app: FastifyInstance
let port: number
const prototypeKeys = {
  object: Object.getOwnPropertyNames(Object.prototype).sort(),
  array: Object.getOwnPropertyNames(Array.prototype).sort(),
  function: Object.getOwnPropertyNames(Function.prototype).sort(),
}

beforeAll(async () => {
  ;({ app } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' }))
  port = await freePort()
  await app.listen({ host: '127.0.0.1', port })
  await untilReady(app)
})

afterAll(async () => {
  await app.close()
  await cleanupPrefix(url, prefix)
})

const POLLUTERS = [
  '"__proto__":{"polluted":"yes","isAdmin":true}',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"__pro\\u0074o__":{"polluted":"yes"}',
  '"prototype":{"polluted":"yes"}',
  '"toString":"not a function","valueOf":1,"hasOwnProperty":null',
]

/** Event-like objects with wrong types everywhere. */
const wrongTypes = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom('identify', 'track', 'page', 'group', 'screen', 'alias', 'delete', ''),
      fc.anything(),
    ),
    userId: fc.anything(),
    anonymousId: fc.anything(),
    messageId: fc.oneof(fc.string({ maxLength: 120 }), fc.anything()),
    event: fc.anything(),
    groupId: fc.anything(),
    previousId: fc.anything(),
    traits: fc.anything(),
    properties: fc.anything(),
    context: fc.anything(),
    integrations: fc.oneof(fc.constantFrom({ All: false }, { All: true }, null), fc.anything()),
    timestamp: fc.oneof(
      fc.constantFrom('2015-2-02T00:30:08.276Z', 'not a date', '9999-99-99'),
      fc.anything(),
    ),
    sentAt: fc.anything(),
    writeKey: fc.oneof(fc.constant(WRITE_KEY), fc.anything()),
    batch: fc.anything(),
  },
  { requiredKeys: [] },
)

/** JSON text with prototype-polluting keys spliced into events, batches and nested objects. */
const polluted = fc
  .tuple(
    fc.constantFrom(...POLLUTERS),
    fc.constantFrom('event', 'batch', 'nested', 'array', 'top'),
    fc.boolean(),
  )
  .map(([key, where, withKey]) => {
    const wk = withKey ? `"writeKey":"${WRITE_KEY}",` : ''
    const event = `{${key},"type":"track","userId":"u","event":"E","messageId":"fuzz-${where}-${Math.random()}"}`
    switch (where) {
      case 'event':
        return `{${wk}${key},"userId":"u","event":"E","properties":{${key}}}`
      case 'batch':
        return `{${wk}${key},"batch":[${event}],"context":{${key}},"integrations":{${key}}}`
      case 'nested':
        return `{${wk}"userId":"u","event":"E","traits":{"a":{"b":{${key}}}},"context":{"traits":{${key}}}}`
      case 'array':
        return `[${event},${event}]`
      default:
        return `{${key}}`
    }
  })

const deep = fc
  .tuple(fc.integer({ min: 10, max: 200_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, balanced]) => {
    const close = open === '[' ? ']' : '}'
    const inner = open === '[' ? '1' : '1'
    return `{"writeKey":"${WRITE_KEY}","userId":"u","event":"E","properties":{"x":${open.repeat(depth)}${inner}${balanced ? close.repeat(depth) : ''}}}`
  })

const huge = fc
  .tuple(
    fc.integer({ min: 30_000, max: 700_000 }),
    fc.constantFrom('properties', 'userId', 'messageId', 'batch'),
  )
  .map(([size, field]) => {
    const blob = 'x'.repeat(size)
    if (field === 'batch') return JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: blob }] })
    if (field === 'properties') return JSON.stringify({ userId: 'u', event: 'E', properties: { blob } })
    return JSON.stringify({ userId: field === 'userId' ? blob : 'u', event: 'E', messageId: blob })
  })

const strangeJson = fc.constantFrom(
  '1e999',
  '-0',
  '"\\ud800"',
  '{"userId":"\\u0000","event":"\\ud800\\udc00"}',
  '{"userId":12345678901234567890,"event":"E"}',
  '{"batch":[null,true,[],"x",1]}',
  '{"batch":{"length":100000000}}',
  '{"userId":"u","event":"E","timestamp":{"toISOString":1}}',
  'null',
  '[]',
  '{}',
  '',
  '\ufeff',
  '{"a":1}{"b":2}',
  '{"userId":"u",}',
)

const body: fc.Arbitrary<{ text: Buffer; note: string }> = fc.oneof(
  wrongTypes.map(v => ({ text: Buffer.from(safeStringify(v)), note: 'wrong types' })),
  fc.uint8Array({ maxLength: 4000 }).map(bytes => ({ text: Buffer.from(bytes), note: 'random bytes' })),
  fc
    .jsonValue({ maxDepth: 6 })
    .map(v => ({ text: Buffer.from(JSON.stringify(v) ?? ''), note: 'random json' })),
  wrongTypes.map(v => ({ text: Buffer.from(safeStringify(v)), note: 'wrong types' })),
  wrongTypes.map(v => ({
    text: Buffer.from(safeStringify({ batch: [v, v], writeKey: WRITE_KEY })),
    note: 'wrong types in a batch',
  })),
  polluted.map(text => ({ text: Buffer.from(text), note: 'prototype keys' })),
  deep.map(text => ({ text: Buffer.from(text), note: 'deep nesting' })),
  huge.map(text => ({ text: Buffer.from(text), note: 'huge string' })),
  strangeJson.map(text => ({ text: Buffer.from(text), note: 'strange json' })),
)

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null'
  } catch {
    return '{"unserialisable":true}'
  }
}

const printable = fc.stringMatching(/^[\x20-\x7e]{0,60}$/)

const weighted = <T>(...pairs: Array<[number, fc.Arbitrary<T>]>): fc.Arbitrary<T> =>
  fc.oneof(...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })))

const request = fc.record({
  path: weighted<string>(
    [9, fc.constantFrom(...INGEST_ROUTES.filter(r => r !== '/v1/m'))],
    [1, fc.constantFrom('/v1/track?writeKey=x', '/v1//batch', '/v1/TRACK', '/v1/batch/', '/%2e%2e/v1/batch')],
  ),
  auth: weighted<string | undefined>(
    [6, fc.constant(basic(WRITE_KEY))],
    [1, fc.constant(undefined)],
    [1, fc.constant('Bearer x.y.z')],
    [1, printable.map(s => `Basic ${s}`)],
    [1, printable],
  ),
  contentType: weighted<string | null>(
    [2, fc.constant(null)],
    [
      2,
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/json; charset=utf-8',
        'multipart/form-data; boundary=x',
      ),
    ],
    [1, printable],
  ),
  encoding: weighted<string | null>(
    [6, fc.constant(null)],
    [3, fc.constantFrom('gzip', 'x-gzip', 'identity')],
    [1, fc.oneof(fc.constantFrom('br', 'deflate'), printable)],
  ),
  gzip: weighted<'none' | 'valid' | 'truncated' | 'garbage'>(
    [6, fc.constant('none')],
    [2, fc.constant('valid')],
    [1, fc.constantFrom('truncated', 'garbage')],
  ),
  body,
})

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never

function encode(req: Request): Buffer {
  switch (req.gzip) {
    case 'valid':
      return gzipSync(req.body.text)
    case 'truncated':
      return gzipSync(req.body.text).subarray(0, Math.max(5, req.body.text.length % 40))
    case 'garbage':
      return Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), req.body.text])
    default:
      return req.body.text
  }
}

describe('hostile input', () => {
  it(`never answers 5xx, always with a JSON reason (${RUNS} seeded requests)`, async () => {
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(request, async req => {
        const headers: Record<string, string> = {}
        if (req.auth !== undefined) headers.authorization = req.auth
        if (req.contentType !== null) headers['content-type'] = req.contentType
        if (req.encoding !== null) headers['content-encoding'] = req.encoding
        const response = await app.inject({ method: 'POST', url: req.path, headers, payload: encode(req) })
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
        const context = `${req.body.note} → ${response.statusCode} ${response.body.slice(0, 200)}`
        expect({ context, ok: response.statusCode >= 200 && response.statusCode < 500 }).toEqual({
          context,
          ok: true,
        })
        const answer = json(response)
        if (response.statusCode >= 400) {
          expect(answer).toMatchObject({
            success: false,
            code: expect.any(String),
            message: expect.any(String),
          })
        } else {
          expect(answer.success).toBe(true)
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
    // Mostly refused (4xx), but some valid-looking events get through: both paths were exercised.
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0)
    expect(refused).toBeGreaterThan(RUNS / 2)
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0)
  }, 120_000)

  it('survives malformed HTTP on a real socket', async () => {
    const raw = async (text: string | Buffer): Promise<string> =>
      new Promise(resolve => {
        const socket = connect(port, '127.0.0.1')
        let answer = ''
        socket.on('data', chunk => (answer += chunk.toString()))
        socket.on('error', () => resolve(answer))
        socket.on('close', () => resolve(answer))
        socket.setTimeout(5000, () => socket.destroy())
        socket.write(text, () => socket.end())
      })
    const cases = [
      'GARBAGE\r\n\r\n',
      'POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}',
      'POST /v1/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      `POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"userId":',
      Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]),
    ]
    for (const text of cases) {
      const answer = await raw(text)
      if (answer !== '') {
        expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /)
        expect(answer).toMatch(/\r\n\r\n\{.*"message"/s)
      }
    }
  })

  it('is unchanged afterwards: no polluted prototypes, and a normal request still works', async () => {
    expect(({} as any).polluted).toBeUndefined()
    expect(({} as any).isAdmin).toBeUndefined()
    expect(([] as any).polluted).toBeUndefined()
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys.object)
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(prototypeKeys.array)
    expect(Object.getOwnPropertyNames(Function.prototype).sort()).toEqual(prototypeKeys.function)

    const response = await fetch(`http://127.0.0.1:${port}/v1/track`, {
      method: 'POST',
      headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' },
      body: JSON.stringify(track({ messageId: `after-fuzz-${Date.now()}` })),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ success: true, accepted: 1 })
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)

    // Metric labels never took client text.
    const metrics = (await scrape(app)).body
    const types = [...metrics.matchAll(/ucd_ingest_events_total\{outcome="[a-z_]+",type="([^"]*)"\}/g)].map(
      m => m[1],
    )
    expect(new Set(types)).toEqual(
      new Set(
        types.filter(t =>
          ['identify', 'track', 'page', 'screen', 'group', 'alias', 'delete', 'unknown'].includes(t!),
        ),
      ),
    )
    const routes = [...metrics.matchAll(/ucd_ingest_requests_total\{route="([^"]*)"/g)].map(m => m[1])
    expect(
      routes.every(
        r => r === 'unmatched' || INGEST_ROUTES.includes(r!) || r!.startsWith('/health') || r === '/metrics',
      ),
    ).toBe(true)
  })
})
