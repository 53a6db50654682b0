import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { FastifyInstance } from 'fastify'
import { auth, gzipJson, json, memoryApp, post as postTo, screen, WRITE_KEY } from './helpers'

// Bodies through the whole app (no Redis: an in-memory producer): any Content-Type, gzip, size limits
// per route, broken JSON, nesting, prototype pollution. body.test.ts tests the reader on its own.

let app: FastifyInstance
beforeAll(async () => {
  ;({ app } = await memoryApp())
})
afterAll(async () => {
  await app.close()
})

const post = (url: string, payload: unknown, headers?: Record<string, string>) =>
  postTo(app, url, payload, headers)

describe('bodies', () => {
  it('parses JSON whatever the Content-Type says, or without one', async () => {
    for (const contentType of [
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'nonsense',
      ';;;',
    ]) {
      const response = await post('/v1/s', screen(), { ...auth, 'content-type': contentType })
      expect({ contentType, status: response.statusCode }).toEqual({ contentType, status: 200 })
    }
    const none = await app.inject({
      method: 'POST',
      url: '/v1/s',
      headers: auth,
      payload: JSON.stringify(screen()),
    })
    expect(none.statusCode).toBe(200)
  })

  it('decompresses Content-Encoding gzip and x-gzip', async () => {
    for (const encoding of ['gzip', 'x-gzip', 'GZIP']) {
      const response = await post('/v1/s', gzipJson(screen()), { ...auth, 'content-encoding': encoding })
      expect({ encoding, status: response.statusCode }).toEqual({ encoding, status: 200 })
    }
  })

  it('answers 400 with a JSON reason for broken gzip, 415 for other encodings', async () => {
    const broken = await post('/v1/s', Buffer.from('definitely not gzip'), {
      ...auth,
      'content-encoding': 'gzip',
    })
    expect(broken.statusCode).toBe(400)
    expect(json(broken).code).toBe('UCD_ERR_INVALID_GZIP')
    const truncated = await post('/v1/s', gzipJson(screen()).subarray(0, 15), {
      ...auth,
      'content-encoding': 'gzip',
    })
    expect(json(truncated).code).toBe('UCD_ERR_INVALID_GZIP')
    const br = await post('/v1/s', JSON.stringify(screen()), { ...auth, 'content-encoding': 'br' })
    expect(br.statusCode).toBe(415)
    expect(json(br).code).toBe('UCD_ERR_UNSUPPORTED_ENCODING')
  })

  it('limits a single-event request to 32 KB of JSON, naming the limit', async () => {
    const big = screen({ properties: { blob: 'x'.repeat(33 * 1024) } })
    for (const [body, headers] of [
      [JSON.stringify(big), auth],
      [gzipJson(big), { ...auth, 'content-encoding': 'gzip' }],
    ] as const) {
      const response = await post('/v1/screen', body, headers)
      expect(response.statusCode).toBe(400)
      expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_PAYLOAD_TOO_LARGE' })
      expect(json(response).message).toMatch(/^Exceed payload limit/)
      expect(json(response).message).toContain('32768 bytes')
    }
    const justUnder = screen({ properties: { blob: 'x'.repeat(31 * 1024) } })
    expect((await post('/v1/screen', justUnder)).statusCode).toBe(200)
  })

  it('measures the event, not only the body: a body under 32 KB that decodes larger is refused', async () => {
    // 12,000 bytes that are not UTF-8 become 12,000 U+FFFD (36,000 bytes of JSON once decoded).
    const [head, tail] = JSON.stringify(screen({ properties: { blob: '@' } })).split('@') as [string, string]
    const body = Buffer.concat([Buffer.from(head), Buffer.alloc(12_000, 0xff), Buffer.from(tail)])
    expect(body.length).toBeLessThan(32 * 1024)
    const response = await post('/v1/screen', body)
    expect(response.statusCode).toBe(400)
    expect(JSON.stringify(json(response))).toContain('over the 32768-byte limit')
    // A small body is not measured (it cannot be over the limit) and is accepted as before.
    expect((await post('/v1/screen', screen({ properties: { blob: 'x'.repeat(8000) } }))).statusCode).toBe(
      200,
    )
  })

  it('limits a batch request to 500 KB of JSON, and each event in it to 32 KB', async () => {
    const many = Array.from({ length: 120 }, (_, i) => ({
      type: 'screen',
      ...screen({ messageId: `m-${i}`, properties: { blob: 'x'.repeat(4000) } }),
    }))
    const under = await post('/v1/batch', { batch: many })
    expect(under.statusCode).toBe(200)
    expect(json(under)).toMatchObject({ notDelivered: 120 })

    const over = Array.from({ length: 130 }, () => ({
      type: 'screen',
      ...screen({ properties: { blob: 'x'.repeat(4000) } }),
    }))
    for (const [body, headers] of [
      [JSON.stringify({ batch: over }), auth],
      [gzipJson({ batch: over }), { ...auth, 'content-encoding': 'gzip' }],
    ] as const) {
      const response = await post('/v1/batch', body, headers)
      expect(response.statusCode).toBe(400)
      expect(json(response).code).toBe('UCD_ERR_PAYLOAD_TOO_LARGE')
      expect(json(response).message).toContain('512000 bytes')
    }

    const oneTooBig = {
      batch: [
        { type: 'screen', ...screen() },
        { type: 'screen', ...screen({ properties: { blob: 'x'.repeat(33 * 1024) } }) },
      ],
    }
    const mixed = await post('/v1/batch', oneTooBig)
    expect(mixed.statusCode).toBe(200)
    expect(json(mixed)).toMatchObject({ success: true, notDelivered: 1, invalid: 1 })
    expect(json(mixed).errors[0].index).toBe(1)
  })

  it('stops a gzip bomb at the limit', async () => {
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"batch":[],"x":"'), Buffer.alloc(20_000_000, 0x61), Buffer.from('"}')]),
    )
    expect(bomb.length).toBeLessThan(512_000)
    const response = await post('/v1/batch', bomb, { ...auth, 'content-encoding': 'gzip' })
    expect(response.statusCode).toBe(400)
    expect(json(response).code).toBe('UCD_ERR_PAYLOAD_TOO_LARGE')
  })

  it('answers 400 for invalid JSON without echoing the body', async () => {
    const response = await post('/v1/track', `{"writeKey":"${WRITE_KEY}", "event": oops`, {})
    expect(response.statusCode).toBe(400)
    expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_INVALID_JSON' })
    expect(response.body).not.toContain(WRITE_KEY)
  })

  it('answers 400 for an empty body', async () => {
    for (const payload of ['', '   ']) {
      const response = await post('/v1/track', payload)
      expect(response.statusCode).toBe(400)
      expect(json(response).code).toBe('UCD_ERR_EMPTY_BODY')
    }
  })

  it('answers 400 for absurd nesting', async () => {
    const deep = screen({ properties: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) })
    const response = await post('/v1/screen', deep)
    expect(response.statusCode).toBe(400)
    expect(json(response).code).toBe('UCD_ERR_TOO_DEEP')
  })

  it('drops __proto__ and constructor keys without polluting anything', async () => {
    const hostile = `{"userId":"u","name":"Home","__proto__":{"polluted":"yes"},"properties":{"constructor":{"prototype":{"polluted":"yes"}},"__proto__":{"isAdmin":true}}}`
    const response = await post('/v1/screen', hostile)
    expect(response.statusCode).toBe(200)
    expect(({} as any).polluted).toBeUndefined()
    expect(({} as any).isAdmin).toBeUndefined()
  })
})
