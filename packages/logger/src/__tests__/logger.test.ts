import { Writable } from 'node:stream'
import { describe, expect, it } from '@jest/globals'
import { createLogger, scrub } from '../index'
import { REDACTED } from '../scrub'

const API_KEY = 'uc_0123456789abcdef0123456789abcdef'
const WRITE_KEY = 'wk_live_abcdef123456'

function memory() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      cb()
    },
  })
  return { stream, lines, json: () => lines.map(l => JSON.parse(l) as Record<string, unknown>) }
}

describe('createLogger', () => {
  it('writes JSON lines with the service, level and message', () => {
    const out = memory()
    createLogger({ service: 'ingest', destination: out.stream }).info({ route: '/v1/track' }, 'accepted')
    expect(out.json()[0]).toMatchObject({ service: 'ingest', level: 30, msg: 'accepted', route: '/v1/track' })
  })

  it('respects the level', () => {
    const out = memory()
    const log = createLogger({ service: 'worker', level: 'warn', destination: out.stream })
    log.info('hidden')
    log.warn('shown')
    expect(out.json().map(l => l.msg)).toEqual(['shown'])
  })

  it('child loggers carry their bindings', () => {
    const out = memory()
    const log = createLogger({ service: 'worker', destination: out.stream })
    log.child({ jobId: 'j1', tenantId: 'acme' }).child({ attempt: 2 }).info('delivered')
    expect(out.json()[0]).toMatchObject({
      service: 'worker',
      jobId: 'j1',
      tenantId: 'acme',
      attempt: 2,
      msg: 'delivered',
    })
  })

  it('redacts authorization headers, API keys and write keys at any depth and in any case', () => {
    const out = memory()
    const log = createLogger({ service: 'worker', destination: out.stream })
    log.info(
      {
        req: { headers: { authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` } },
        request: { config: { headers: { Authorization: `Token ${API_KEY}` } } },
        tenant: { usercom: { apiKey: API_KEY }, writeKeys: [WRITE_KEY] },
        body: { writeKey: WRITE_KEY, nested: [{ API_KEY: API_KEY, write_key: WRITE_KEY }] },
      },
      'call',
    )
    const line = out.lines[0]!
    expect(line).not.toContain(API_KEY)
    expect(line).not.toContain(WRITE_KEY)
    const parsed = out.json()[0] as any
    expect(parsed.req.headers.authorization).toBe(REDACTED)
    expect(parsed.request.config.headers.Authorization).toBe(REDACTED)
    expect(parsed.tenant.usercom.apiKey).toBe(REDACTED)
    expect(parsed.body.writeKey).toBe(REDACTED)
    expect(parsed.body.nested[0]).toEqual({ API_KEY: REDACTED, write_key: REDACTED })
  })

  it('cuts known secrets out of messages, errors and child bindings', () => {
    const out = memory()
    const log = createLogger({ service: 'ingest', destination: out.stream, secrets: [API_KEY, WRITE_KEY] })
    const error = Object.assign(new Error(`request failed with key ${API_KEY}`), {
      code: 'X',
      url: `/t?k=${WRITE_KEY}`,
    })
    log.child({ note: `key=${WRITE_KEY}` }).error({ err: error }, `auth with ${WRITE_KEY} failed`)
    log.warn('header was Authorization: Token abcdefghijklmnop1234')
    const text = out.lines.join('\n')
    expect(text).not.toContain(API_KEY)
    expect(text).not.toContain(WRITE_KEY)
    expect(text).not.toContain('abcdefghijklmnop1234')
    const [first] = out.json() as any[]
    expect(first.msg).toBe(`auth with ${REDACTED} failed`)
    expect(first.err).toMatchObject({
      type: 'Error',
      code: 'X',
      message: `request failed with key ${REDACTED}`,
    })
    expect(first.note).toBe(`key=${REDACTED}`)
  })

  it("keeps only the name of a failed Redis command (ioredis' err.command), never its arguments", () => {
    const out = memory()
    const log = createLogger({ service: 'ingest', destination: out.stream })
    // The shape of an ioredis ReplyError: the command and its arguments hang on the error.
    const error = Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), {
      command: {
        name: 'evalsha',
        args: ['3f1a', '8', '{"properties":{"password":"hunter2"},"email":"a@b.c"}'],
      },
    })
    log.warn({ err: error }, 'Redis error')
    expect(out.lines.join('\n')).not.toContain('hunter2')
    expect(out.lines.join('\n')).not.toContain('a@b.c')
    expect((out.json()[0] as any).err).toMatchObject({
      message: "OOM command not allowed when used memory > 'maxmemory'.",
      command: { name: 'evalsha', args: '[3 arguments omitted]' },
    })
  })

  it('prints human-readable lines only when asked', () => {
    const pretty = memory()
    createLogger({ service: 'ingest', destination: pretty.stream, pretty: true }).info('hello there')
    expect(pretty.lines.join('\n')).toContain('hello there')
    expect(() => JSON.parse(pretty.lines[0]!)).toThrow()
    const plain = memory()
    createLogger({ service: 'ingest', destination: plain.stream }).info('hello there')
    expect(JSON.parse(plain.lines[0]!)).toMatchObject({ msg: 'hello there' })
  })
})

describe('scrub', () => {
  it('survives cycles and deep nesting and leaves other values alone', () => {
    const a: Record<string, unknown> = { n: 1, ok: true, s: 'x', nil: null }
    a.self = a
    let deep: Record<string, unknown> = { leaf: 'end' }
    for (let i = 0; i < 50; i++) deep = { deep }
    const result = scrub({ a, deep }, { maxDepth: 10 }) as any
    expect(result.a).toMatchObject({ n: 1, ok: true, s: 'x', nil: null, self: '[Circular]' })
    expect(JSON.stringify(result)).toContain('[Truncated]')
  })
  it('keeps a value seen twice that is no cycle, drops own __proto__ keys, and redacts keys in any case', () => {
    const shared = { v: 1 }
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"ok":1}') as unknown
    const result = scrub({
      a: shared,
      b: shared,
      parsed,
      Authorization: 'x',
      WRITE_KEY: 'y',
      short: 'Basic ab',
    }) as any
    expect(result.a).toEqual({ v: 1 })
    expect(result.b).toEqual({ v: 1 })
    expect(result.parsed).toEqual({ ok: 1 })
    expect(Object.getPrototypeOf(result.parsed)).toBe(Object.prototype)
    expect(result.Authorization).toBe('[Redacted]')
    expect(result.WRITE_KEY).toBe('[Redacted]')
    expect(result.short).toBe('Basic ab')
    expect(scrub('Bearer abcdefgh')).toBe('Bearer [Redacted]')
  })
})
