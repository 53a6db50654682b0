import { describe, expect, it } from '@jest/globals'
import { SIM_VALUE_TYPES, type SimAttribute } from '../schema'
import { attributeValueProblem, charLength, isDate, isDatetimeUtc, parseIsoDatetime } from '../values'
import { createPrng } from '../prng'

const attr = (value_type: SimAttribute['value_type'], choices?: string[]): SimAttribute => ({
  id: 1,
  name: 'a',
  name_std: 'a',
  value_type,
  content_type: 'clientuser',
  ...(choices ? { choices } : {}),
})

describe('attribute values by value_type', () => {
  it.each<[SimAttribute['value_type'], unknown, boolean]>([
    ['string', 'hello', true],
    ['string', 'x'.repeat(255), true],
    ['string', 'x'.repeat(256), false],
    ['string', 5, false],
    ['integer', 42, true],
    ['integer', 4.2, false],
    ['integer', '42', false],
    ['float', 4.2, true],
    ['float', 4, true],
    ['float', '4.2', false],
    ['boolean', false, true],
    ['boolean', 'true', false],
    ['date', '2024-02-29', true],
    ['date', '2023-02-29', false],
    ['date', '2024-2-3', false],
    ['datetime', '2024-05-01T10:20:30Z', true],
    ['datetime', '2024-05-01T10:20:30.123Z', true],
    ['datetime', '2024-05-01T10:20:30+02:00', false],
    ['datetime', '2024-05-01', false],
    ['json', { a: 1 }, true],
    ['json', [1, 2], true],
    ['json', 'x', false],
  ])('%s accepts %j: %s', (type, value, accepted) => {
    expect(attributeValueProblem(attr(type), value) === undefined).toBe(accepted)
  })

  it('fixed accepts only its choices', () => {
    expect(attributeValueProblem(attr('fixed', ['gold', 'silver']), 'gold')).toBeUndefined()
    expect(attributeValueProblem(attr('fixed', ['gold', 'silver']), 'bronze')).toMatch(/not a valid choice/)
  })

  it('null clears any type', () => {
    for (const type of SIM_VALUE_TYPES) {
      expect(attributeValueProblem(attr(type), null)).toBeUndefined()
    }
  })
})

describe('dates and lengths', () => {
  it('counts code points like Python', () => {
    expect(charLength('😀'.repeat(40))).toBe(40)
    expect('😀'.repeat(40).length).toBe(80)
  })
  it('parses ISO datetimes with offsets', () => {
    expect(parseIsoDatetime('2021-01-04T14:13:05.801+05:30')).toBe(Date.parse('2021-01-04T08:43:05.801Z'))
    expect(parseIsoDatetime('2021-13-04T14:13:05Z')).toBeUndefined()
    expect(parseIsoDatetime('yesterday')).toBeUndefined()
    expect(isDate('2021-01-04')).toBe(true)
    expect(isDatetimeUtc('2021-01-04T24:00:00Z')).toBe(false)
  })
})

describe('seeded PRNG', () => {
  it('repeats with the same seed and differs with another', () => {
    const a = createPrng(7)
    const b = createPrng(7)
    const c = createPrng(8)
    const seqA = Array.from({ length: 5 }, () => a.next())
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA)
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA)
    expect(seqA.every(x => x >= 0 && x < 1)).toBe(true)
  })
})
