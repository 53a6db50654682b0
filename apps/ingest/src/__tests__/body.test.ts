import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from '@jest/globals'
import { contentEncoding, MAX_JSON_DEPTH, nestsDeeperThan, parseJson, readJsonBody } from '../body'
import {
  InvalidGzipError,
  InvalidJsonError,
  InvalidRequestError,
  PayloadTooLargeError,
  UnsupportedEncodingError,
} from '../errors'

const limit = { maxBytes: 1000, what: 'a test request' }
const stream = (data: Buffer | string): Readable => Readable.from([Buffer.from(data)])

describe('contentEncoding', () => {
  it('accepts gzip, x-gzip and identity in any case, and rejects the rest', () => {
    expect(contentEncoding({})).toBe('identity')
    expect(contentEncoding({ 'content-encoding': 'identity' })).toBe('identity')
    expect(contentEncoding({ 'content-encoding': '' })).toBe('identity')
    expect(contentEncoding({ 'content-encoding': 'gzip' })).toBe('gzip')
    expect(contentEncoding({ 'content-encoding': ' X-GZIP ' })).toBe('gzip')
    expect(contentEncoding({ 'content-encoding': 'gzip, identity' })).toBe('gzip')
    expect(() => contentEncoding({ 'content-encoding': 'br' })).toThrow(UnsupportedEncodingError)
    expect(() => contentEncoding({ 'content-encoding': 'gzip, gzip' })).toThrow(UnsupportedEncodingError)
  })
})

describe('parseJson', () => {
  it('removes __proto__ and constructor.prototype keys instead of applying them', () => {
    const parsed = parseJson(
      Buffer.from(
        '{"a":1,"__proto__":{"polluted":true},"nested":{"constructor":{"prototype":{"polluted":true}},"b":2}}',
      ),
    ) as Record<string, any>
    expect(parsed).toEqual({ a: 1, nested: { b: 2 } })
    expect(Object.prototype.hasOwnProperty.call(parsed, '__proto__')).toBe(false)
    expect(({} as any).polluted).toBeUndefined()
  })

  it('says where the JSON breaks without quoting it', () => {
    const secret = 'wk_do_not_echo_me'
    let caught: unknown
    try {
      parseJson(Buffer.from(`{"writeKey":"${secret}", oops}`))
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InvalidJsonError)
    expect((caught as Error).message).not.toContain(secret)
    expect((caught as InvalidJsonError).code).toBe('UCD_ERR_INVALID_JSON')
  })

  it('rejects an empty body and accepts a BOM', () => {
    expect(() => parseJson(Buffer.from('  \n'))).toThrow(InvalidRequestError)
    expect(parseJson(Buffer.from('\ufeff{"a":1}'))).toEqual({ a: 1 })
  })
})

describe('nestsDeeperThan', () => {
  it('measures nesting without recursion, even very deep', () => {
    expect(nestsDeeperThan({ a: { b: [1] } }, 3)).toBe(false)
    expect(nestsDeeperThan({ a: { b: [1] } }, 2)).toBe(true)
    expect(nestsDeeperThan('text', 0)).toBe(false)
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown
    expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true)
  })
})

describe('readJsonBody', () => {
  it('reads plain and gzip bodies and reports the JSON size', async () => {
    const text = JSON.stringify({ hello: 'world' })
    await expect(readJsonBody(stream(text), {}, limit)).resolves.toEqual({
      json: { hello: 'world' },
      bytes: text.length,
      source: Buffer.from(text),
      encoding: 'identity',
    })
    await expect(
      readJsonBody(stream(gzipSync(text)), { 'content-encoding': 'gzip' }, limit),
    ).resolves.toMatchObject({
      json: { hello: 'world' },
      bytes: text.length,
      source: Buffer.from(text),
      encoding: 'gzip',
    })
  })

  it('applies the limit to the decompressed JSON, so a gzip bomb stops at the limit', async () => {
    // 50 MB of spaces (valid JSON around a number) gzip to about 50 KB.
    const bomb = gzipSync(Buffer.concat([Buffer.from('1'), Buffer.alloc(50_000_000, 0x20)]))
    const bombLimit = { maxBytes: 100_000, what: 'a test request' }
    expect(bomb.length).toBeLessThan(bombLimit.maxBytes)
    const error = await readJsonBody(stream(bomb), { 'content-encoding': 'gzip' }, bombLimit).catch(e => e)
    expect(error).toBeInstanceOf(PayloadTooLargeError)
    expect((error as Error).message).toMatch(/Exceed payload limit/)
    expect((error as Error).message).toContain('100000 bytes')
  })

  it('rejects a body over the limit, by its Content-Length or by what arrives', async () => {
    await expect(readJsonBody(stream('{}'), { 'content-length': '5000' }, limit)).rejects.toThrow(
      PayloadTooLargeError,
    )
    await expect(readJsonBody(stream(`"${'x'.repeat(2000)}"`), {}, limit)).rejects.toThrow(
      PayloadTooLargeError,
    )
  })

  it('rejects broken or truncated gzip', async () => {
    const headers = { 'content-encoding': 'gzip' }
    await expect(readJsonBody(stream('not gzip at all'), headers, limit)).rejects.toThrow(InvalidGzipError)
    const truncated = gzipSync('{"a":"' + 'b'.repeat(500) + '"}').subarray(0, 20)
    await expect(readJsonBody(stream(truncated), headers, limit)).rejects.toThrow(InvalidGzipError)
  })

  it('rejects nesting deeper than MAX_JSON_DEPTH', async () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)
    const error = await readJsonBody(stream(deep), {}, limit).catch(e => e)
    expect(error).toBeInstanceOf(InvalidRequestError)
    expect((error as InvalidRequestError).code).toBe('UCD_ERR_TOO_DEEP')
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)
    await expect(readJsonBody(stream(ok), {}, limit)).resolves.toMatchObject({ encoding: 'identity' })
  })
})
