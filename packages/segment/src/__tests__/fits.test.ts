import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { surelyFitsJson } from '../normalize'

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8')

// Strings that cost the most once serialised: escapes, control characters, lone surrogates, emoji.
const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0001', '\ud800', '\udc00', '😀', 'é', 'a') }),
)
const json = fc.letrec(tie => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.double(),
    fc.constantFrom(-1.7976931348623157e308, 5e-324, -0, Number.MAX_SAFE_INTEGER, Number.NaN),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 8 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 8 }),
  ),
})).value

describe('surelyFitsJson', () => {
  it('never says a value fits when its JSON is larger than the budget', () => {
    fc.assert(
      fc.property(json, fc.nat(4000), (value, budget) => {
        if (surelyFitsJson(value, budget)) expect(bytes(value)).toBeLessThanOrEqual(budget)
      }),
      { numRuns: 3000 },
    )
  })

  it('says a typical event fits without measuring it, and a big one does not', () => {
    const event = {
      type: 'track',
      userId: 'u-1',
      event: 'Order Completed',
      properties: { total: 27.5, products: [{ sku: '45790-32', price: 19 }], note: 'x'.repeat(800) },
      context: { ip: '203.0.113.42', library: { name: 'analytics.js', version: '5.0.0' } },
    }
    expect(surelyFitsJson(event, 32 * 1024)).toBe(true)
    expect(surelyFitsJson({ ...event, blob: 'x'.repeat(6000) }, 32 * 1024)).toBe(false)
    // An array too long for the budget is refused before its items are looked at.
    expect(surelyFitsJson(new Array(100_000).fill(0), 32 * 1024)).toBe(false)
  })

  it('leaves what JSON.parse never makes to the exact measure', () => {
    expect(surelyFitsJson({ at: new Date(0) }, 1000)).toBe(false)
    expect(surelyFitsJson({ n: 1n }, 1000)).toBe(false)
    expect(surelyFitsJson({ u: undefined }, 1000)).toBe(false)
    expect(surelyFitsJson(Object.create(null) as object, 10)).toBe(true)
  })
})
