import { describe, expect, it } from '@jest/globals'
import {
  UsercomError,
  UsercomForbiddenError,
  UsercomNotFoundError,
  UsercomRateLimitedError,
  UsercomRejectedError,
  UsercomServerError,
  DEAD_LETTER_KINDS,
  MAX_ERROR_RESPONSE_CHARS,
  MAX_RESPONSE_TEXT_LENGTH,
  USERCOM_ERROR_KINDS,
  classifyStatus,
  errorForStatus,
  isUsercomError,
  parseRetryAfter,
  truncateResponse,
} from '../errors'

describe('classifyStatus', () => {
  it.each([
    [200, undefined],
    [201, undefined],
    [429, 'rate_limited'],
    [408, 'retryable'],
    [423, 'retryable'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
    [599, 'retryable'],
    [501, 'rejected'],
    [505, 'rejected'],
    [403, 'forbidden'],
    [401, 'unauthorized'],
    [400, 'rejected'],
    [404, 'rejected'],
    [409, 'rejected'],
    [413, 'rejected'],
    [422, 'rejected'],
    [301, 'rejected'],
  ])('%i → %s', (status, kind) => {
    expect(classifyStatus(status)).toBe(kind)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  it('reads seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('1.5', now)).toBe(1500)
  })
  it('reads HTTP-dates relative to now, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0)
  })
  it('gives undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
  })
})

describe('error classes', () => {
  it('have a name, a stable code, a kind, and work with instanceof', () => {
    const error = errorForStatus({ endpoint: 'POST /events/', status: 404 }, undefined)
    expect(error).toBeInstanceOf(UsercomNotFoundError)
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(error).toBeInstanceOf(UsercomError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('UsercomNotFoundError')
    expect(error.code).toBe('UC_ERR_NOT_FOUND')
    expect(error.kind).toBe('rejected')
    expect(error.endpoint).toBe('POST /events/')
    expect(error.status).toBe(404)
  })

  it('map each status to its class', () => {
    const at = (status: number, retryAfter?: string) =>
      errorForStatus({ endpoint: 'GET /attributes/', status }, retryAfter)
    expect(at(429, '2')).toBeInstanceOf(UsercomRateLimitedError)
    expect((at(429, '2') as UsercomRateLimitedError).retryAfterMs).toBe(2000)
    expect((at(429) as UsercomRateLimitedError).retryAfterMs).toBeUndefined()
    expect(at(503)).toBeInstanceOf(UsercomServerError)
    expect(at(403)).toBeInstanceOf(UsercomForbiddenError)
    expect(at(400).code).toBe('UC_ERR_REJECTED')
    expect(at(401).code).toBe('UC_ERR_UNAUTHORIZED')
  })

  it('are recognised by isUsercomError, also as plain objects from another realm', () => {
    expect(isUsercomError(new UsercomForbiddenError({ endpoint: 'x' }))).toBe(true)
    expect(isUsercomError({ code: 'UC_ERR_FORBIDDEN', kind: 'forbidden', message: 'x' })).toBe(true)
    expect(isUsercomError(new Error('x'))).toBe(false)
    expect(isUsercomError({ code: 'ECONNRESET', kind: 'x' })).toBe(false)
  })
})

describe('the kinds', () => {
  it('every status maps to a declared kind; those that dead-letter at once are among them', () => {
    for (const status of [400, 401, 403, 404, 408, 413, 422, 423, 429, 500, 501, 503, 505]) {
      expect(USERCOM_ERROR_KINDS).toContain(classifyStatus(status))
      expect(USERCOM_ERROR_KINDS).toContain(errorForStatus({ endpoint: 'x', status }, undefined).kind)
    }
    expect(DEAD_LETTER_KINDS).toEqual(['forbidden', 'unauthorized', 'rejected', 'invalid'])
  })

  it('isUsercomError refuses a plain object with a known code but a kind nobody declared', () => {
    expect(isUsercomError({ code: 'UC_ERR_FORBIDDEN', kind: 'nonsense', message: 'x' })).toBe(false)
  })
})

describe('truncateResponse', () => {
  it('keeps a short body as it is, and cuts a long one to the limit with a mark', () => {
    expect(truncateResponse('{"detail":"no"}')).toBe('{"detail":"no"}')
    const long = truncateResponse('x'.repeat(MAX_ERROR_RESPONSE_CHARS + 500))
    expect(long.startsWith('x'.repeat(MAX_ERROR_RESPONSE_CHARS))).toBe(true)
    expect(long.endsWith('…[truncated]')).toBe(true)
    expect(long).toHaveLength(MAX_RESPONSE_TEXT_LENGTH)
  })

  it('is idempotent: a truncated body comes back unchanged', () => {
    const once = truncateResponse('y'.repeat(MAX_ERROR_RESPONSE_CHARS * 2))
    expect(truncateResponse(once)).toBe(once)
  })
})
