import { describe, expect, it } from '@jest/globals'
import {
  formatBytes,
  formatCount,
  formatMs,
  formatRatio,
  medianBy,
  percentile,
  perSecond,
  ratio,
  round,
} from '../stats'

describe('percentile', () => {
  it('takes the nearest rank of the sorted values', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]
    expect(percentile(values, 50)).toBe(5)
    expect(percentile(values, 99)).toBe(10)
    expect(percentile(values, 0)).toBe(1)
    expect(percentile(values, 100)).toBe(10)
    expect(percentile([42], 99)).toBe(42)
    expect(percentile([], 50)).toBeUndefined()
  })

  it('does not reorder the values it is given', () => {
    const values = [3, 1, 2]
    percentile(values, 50)
    expect(values).toEqual([3, 1, 2])
  })
})

describe('medianBy', () => {
  it('picks the middle item, the lower middle one for an even count', () => {
    expect(medianBy([{ v: 3 }, { v: 1 }, { v: 2 }], x => x.v)).toEqual({ v: 2 })
    expect(medianBy([{ v: 4 }, { v: 1 }, { v: 3 }, { v: 2 }], x => x.v)).toEqual({ v: 2 })
    expect(medianBy([], (x: number) => x)).toBeUndefined()
  })
})

describe('rates and ratios', () => {
  it('counts per second', () => {
    expect(perSecond(500, 250)).toBe(2000)
    expect(perSecond(10, 0)).toBe(0)
  })

  it('divides only what can be divided', () => {
    expect(ratio(30, 40)).toBe(0.75)
    expect(ratio(undefined, 40)).toBeUndefined()
    expect(ratio(30, undefined)).toBeUndefined()
    expect(ratio(30, 0)).toBeUndefined()
    expect(ratio(Number.NaN, 3)).toBeUndefined()
  })

  it('rounds without float noise', () => {
    expect(round(1.23456, 2)).toBe(1.23)
    expect(round(2.5)).toBe(3)
  })
})

describe('formatting', () => {
  it('prints counts with thousands separators and - for missing', () => {
    expect(formatCount(12345.6)).toBe('12,346')
    expect(formatCount(undefined)).toBe('-')
    expect(formatCount(Number.POSITIVE_INFINITY)).toBe('-')
  })

  it('prints ratios as whole percents', () => {
    expect(formatRatio(0.756)).toBe('76%')
    expect(formatRatio(1.2)).toBe('120%')
    expect(formatRatio(undefined)).toBe('-')
  })

  it('prints milliseconds with a precision that fits', () => {
    expect(formatMs(0.4234)).toBe('0.42')
    expect(formatMs(3.14)).toBe('3.1')
    expect(formatMs(1234)).toBe('1,234')
    expect(formatMs(undefined)).toBe('-')
  })

  it('prints bytes in binary units', () => {
    expect(formatBytes(812)).toBe('812 B')
    expect(formatBytes(2048)).toBe('2.0 KB')
    expect(formatBytes(200 * 1024 * 1024)).toBe('200.0 MB')
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.00 GB')
    expect(formatBytes(undefined)).toBe('-')
  })
})
