import { describe, expect, it } from '@jest/globals'
import { parseRetryAfter, UsercomRateLimitedError } from '@ucd/usercom-client'
import {
  backoffDelay,
  classify,
  decide,
  DEFAULT_RETRY_AFTER_MS,
  failuresAfter,
  InvalidJobError,
  MAX_RETRY_AFTER_MS,
  type Failure,
} from '../policy'

const failure = (kind: Failure['kind'], extra: Partial<Failure> = {}): Failure => ({
  kind,
  code: 'X',
  message: 'm',
  ...extra,
})
const window = { firstAttemptAt: 1_000_000, now: 1_000_000 + 60_000, retryWindowMs: 240 * 60_000 }

describe('decide: the failure taxonomy of design.md onto BullMQ', () => {
  it.each([
    ['forbidden (403)', 'forbidden', { action: 'dead_letter', reason: 'forbidden' }],
    ['unauthorized (401)', 'unauthorized', { action: 'dead_letter', reason: 'unauthorized' }],
    ['rejected (other permanent 4xx)', 'rejected', { action: 'dead_letter', reason: 'rejected' }],
    ['invalid (cannot be mapped)', 'invalid', { action: 'dead_letter', reason: 'invalid' }],
    ['retryable inside the window', 'retryable', { action: 'retry' }],
  ] as const)('%s', (_name, kind, expected) => {
    expect(decide(failure(kind), window)).toEqual(expected)
  })

  it('dead-letters a retryable failure as exhausted once the retry window is spent', () => {
    const spent = { ...window, now: window.firstAttemptAt + window.retryWindowMs }
    expect(decide(failure('retryable'), spent)).toEqual({ action: 'dead_letter', reason: 'exhausted' })
    expect(decide(failure('retryable'), { ...spent, now: spent.now - 1 })).toEqual({ action: 'retry' })
  })

  it('defers the job (not the queue) for Retry-After on 429: default 1 s, capped at 60 s, never dead-letters', () => {
    expect(decide(failure('rate_limited'), window)).toEqual({ action: 'defer', delayMs: 1000 })
    expect(decide(failure('rate_limited', { retryAfterMs: 5000 }), window)).toEqual({
      action: 'defer',
      delayMs: 5000,
    })
    expect(decide(failure('rate_limited', { retryAfterMs: 3_600_000 }), window)).toEqual({
      action: 'defer',
      delayMs: MAX_RETRY_AFTER_MS,
    })
    const spent = { ...window, now: window.firstAttemptAt + 10 * window.retryWindowMs }
    expect(decide(failure('rate_limited'), spent).action).toBe('defer')
  })

  it('defers at least the default 1 s when Retry-After is 0 or a past HTTP-date (no 429 hot loop)', () => {
    const past = parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')
    expect([parseRetryAfter('0'), past]).toEqual([0, 0])
    for (const retryAfterMs of [0, past, 1, 999]) {
      expect(decide(failure('rate_limited', { retryAfterMs }), window)).toEqual({
        action: 'defer',
        delayMs: DEFAULT_RETRY_AFTER_MS,
      })
    }
    expect(decide(failure('rate_limited', { retryAfterMs: 1001 }), window)).toEqual({
      action: 'defer',
      delayMs: 1001,
    })
  })
})

describe('classify', () => {
  it('reads the kind and details the User.com client puts on its errors', () => {
    const clientError = Object.assign(new Error('Forbidden'), {
      kind: 'forbidden',
      code: 'UC_ERR_FORBIDDEN',
      status: 403,
      response: '{"detail":"revoked"}',
    })
    expect(classify(clientError)).toEqual({
      kind: 'forbidden',
      code: 'UC_ERR_FORBIDDEN',
      message: 'Forbidden',
      status: 403,
      response: '{"detail":"revoked"}',
      retryAfterMs: undefined,
    })
    expect(classify(new InvalidJobError('UCD_ERR_INVALID_JOB', 'bad'))).toMatchObject({ kind: 'invalid' })
  })

  it('reads client errors through isUsercomError: a look-alike without a client code is not one', () => {
    const limited = new UsercomRateLimitedError({ endpoint: 'POST /events/', status: 429 }, 5000)
    expect(classify(limited)).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 5000 })
    expect(classify({ kind: 'forbidden', message: 'duck' })).toMatchObject({
      kind: 'retryable',
      code: 'UCD_ERR_INTERNAL',
      message: 'duck',
    })
  })

  it('treats anything unknown as retryable, so it is never dropped', () => {
    expect(classify(new Error('ECONNRESET'))).toMatchObject({ kind: 'retryable', code: 'UCD_ERR_INTERNAL' })
    expect(classify('a string')).toMatchObject({ kind: 'retryable', message: 'a string' })
    expect(classify({ kind: 'nonsense' })).toMatchObject({ kind: 'retryable' })
  })
})

describe('backoffDelay: exponential with full jitter', () => {
  const base = { baseDelayMs: 1000, maxDelayMs: 300_000, msUntilWindowEnd: 1e12 }

  it('grows the ceiling 1 s, 2 s, 4 s ... up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 10, 20].map(n =>
      backoffDelay({ ...base, failuresWithoutProgress: n, random: 0.999999 }),
    )
    expect(ceilings).toEqual([999, 1999, 3999, 7999, 299_999, 299_999])
  })

  it('spreads delays uniformly from 0 to the ceiling', () => {
    expect(backoffDelay({ ...base, failuresWithoutProgress: 3, random: 0 })).toBe(0)
    expect(backoffDelay({ ...base, failuresWithoutProgress: 3, random: 0.5 })).toBe(2000)
  })

  it('an attempt that saved a new checkpoint (0 failures without progress) retries within the base delay', () => {
    expect(backoffDelay({ ...base, failuresWithoutProgress: 0, random: 0.999999 })).toBe(999)
    // After many failed attempts, progress brings the next try back to the base delay.
    expect(failuresAfter(9, true)).toBe(0)
    expect(failuresAfter(9, false)).toBe(10)
    expect(failuresAfter(undefined, false)).toBe(1)
  })

  it('never schedules a try after the retry window ends', () => {
    expect(backoffDelay({ ...base, failuresWithoutProgress: 10, random: 0.9, msUntilWindowEnd: 1234 })).toBe(
      1234,
    )
    expect(backoffDelay({ ...base, failuresWithoutProgress: 10, random: 0.9, msUntilWindowEnd: -5 })).toBe(0)
  })
})
