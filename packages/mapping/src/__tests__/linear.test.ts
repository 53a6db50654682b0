import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { convertAttributeValue } from '../index'
import { isEmailShaped } from '../util'
import { isDecimalText } from '../values'

// Issue 18: the one-pass checks that replaced backtracking regular expressions give the same
// answers as those expressions on random short strings (where the old ones are fast enough to run).

const OLD_FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i
const OLD_EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

const from = (units: string[], maxLength: number) =>
  fc.array(fc.constantFrom(...units), { maxLength }).map(parts => parts.join(''))

describe('isDecimalText (was FLOAT_RE)', () => {
  it('agrees with the regular expression on random short strings', () => {
    const text = fc.oneof(
      from(['0', '1', '9', '.', 'e', 'E', '+', '-', 'x', ' ', '١'], 10),
      fc.string({ maxLength: 12 }),
    )
    fc.assert(
      fc.property(text, t => expect(isDecimalText(t)).toBe(OLD_FLOAT_RE.test(t))),
      { numRuns: 20_000 },
    )
  })

  it.each(['14.99', '.5', '1.', '-1e3', '+2E-7', '0', '007'])('%s is a number', t => {
    expect(isDecimalText(t)).toBe(true)
  })

  it.each(['', '.', '+', 'e5', '1e', '1e+', '1.2.3', '1 2', 'Infinity', '0x10'])('%s is not', t => {
    expect(isDecimalText(t)).toBe(false)
  })

  it('a float attribute still takes numeric strings, and refuses 32 KB of digits ending in a letter', () => {
    expect(convertAttributeValue('14.99', { valueType: 'float' })).toEqual({ ok: true, value: 14.99 })
    expect(convertAttributeValue(`${'7'.repeat(32_000)}x`, { valueType: 'float' })).toEqual({
      ok: false,
      reason: 'not a number',
    })
  })
})

describe('isEmailShaped (was EMAIL_RE)', () => {
  it('agrees with the regular expression on random short strings', () => {
    const text = fc.oneof(
      from(['a', 'b', '@', '.', ' ', '\t', '\u00a0', '-', 'é'], 10),
      fc.string({ maxLength: 12 }),
    )
    fc.assert(
      fc.property(text, t => expect(isEmailShaped(t)).toBe(OLD_EMAIL_RE.test(t))),
      { numRuns: 20_000 },
    )
  })

  it.each([
    ['peter@example.com', true],
    ['a@b.co', true],
    ['a@x.y.', true],
    ['peter at example', false],
    ['a@.x', false],
    ['a@x.', false],
    ['@x.y', false],
    ['a@b@c.d', false],
    ['a b@c.d', false],
  ])('%s → %s', (text, expected) => expect(isEmailShaped(text)).toBe(expected))
})
