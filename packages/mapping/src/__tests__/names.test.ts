import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { MAX_ATTRIBUTE_NAME_LENGTH, planEvent, toNameStd } from '../index'
import { SHORT_NAME_PREFIX_LENGTH, snakeCase, traitKey } from '../names'
import { attr, ensured, identify, userBody } from './helpers'

// The regular-expression version this package used before issue 18 (it backtracked quadratically on
// a long run of capitals): the reference the one-pass version must agree with.
function regexSnakeCase(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}

const UNITS = [
  'A',
  'B',
  'Z',
  'a',
  'b',
  'z',
  '0',
  '9',
  '_',
  '.',
  ' ',
  '-',
  '@',
  'é',
  'e\u0301',
  '😀',
  'İ',
  'ß',
  'Σ',
  '\u212a',
  'ǅ',
]
const shortName = fc.array(fc.constantFrom(...UNITS), { maxLength: 14 }).map(units => units.join(''))

describe('snakeCase: one pass, the same results as the regular expressions it replaces', () => {
  it('agrees with the old regex pipeline on random short names (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(shortName, fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 12 })),
        name => {
          expect(snakeCase(name)).toBe(regexSnakeCase(name))
        },
      ),
      { numRuns: 5000 },
    )
  })

  it('only İ and the Kelvin sign have an ASCII letter or digit in their lower case (all of the BMP checked)', () => {
    const found: string[] = []
    for (let code = 0x80; code <= 0xffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue
      if (/[a-z0-9]/.test(String.fromCharCode(code).toLowerCase())) found.push(code.toString(16))
    }
    expect(found).toEqual(['130', '212a'])
    // Both survive only when NFKD does not take them apart first; the pipeline agrees either way.
    expect(snakeCase('İstanbul')).toBe(regexSnakeCase('İstanbul'))
    expect(snakeCase('5\u212a')).toBe(regexSnakeCase('5\u212a'))
  })

  it.each([
    ['HTMLTitle', 'html_title'],
    ['ABTestGroup', 'ab_test_group'],
    ['aXAbc', 'a_x_abc'],
    ['ABcDEf', 'a_bc_d_ef'],
    ['last30Days', 'last30_days'],
    ['__a__b__', 'a_b'],
  ])('%s → %s', (name, expected) => {
    expect(snakeCase(name)).toBe(expected)
    expect(regexSnakeCase(name)).toBe(expected)
  })
})

describe('toNameStd: names longer than 32 characters are shortened with a hash, never cut into one another', () => {
  it('the two Engage audiences of issue 17 stay two attributes', () => {
    const customers = toNameStd('order_completed_last_30days_high_value_customers')
    const churned = toNameStd('order_completed_last_30days_high_value_churned')
    expect(customers).toBe('order_completed_last_30da_284b4f')
    expect(churned).toBe('order_completed_last_30da_55dc26')
    // The old rule (cut to 32) gave both `order_completed_last_30days_high`.
    expect(regexSnakeCase('order_completed_last_30days_high_value_churned').slice(0, 32)).toBe(
      'order_completed_last_30days_high',
    )
  })

  it('spellings with one snake_case form share one name (the hash is of the snake_case name)', () => {
    expect(toNameStd('Order Completed Last 30days High Value Customers')).toBe(
      toNameStd('order_completed_last_30days_high_value_customers'),
    )
  })

  it('no `_` before the hash when the 25th character is one', () => {
    // snake: `abcdefghijklmnopqrstuvwx_yz...`: its first 25 characters end with `_`.
    const name = toNameStd('abcdefghijklmnopqrstuvwx yz and more words here')
    expect(name).toMatch(/^abcdefghijklmnopqrstuvwx_[0-9a-f]{6}$/)
  })

  it('names of 32 characters or fewer are unchanged', () => {
    expect(toNameStd('exactly_thirty_two_characters_xx')).toBe('exactly_thirty_two_characters_xx')
  })

  it('always at most 32 characters, idempotent, and the first 25 characters are those of the snake_case name', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          shortName,
          fc.string({ maxLength: 80 }),
          shortName.map(s => s.repeat(5)),
        ),
        name => {
          const nameStd = toNameStd(name)
          const snake = snakeCase(name)
          expect(nameStd.length).toBeLessThanOrEqual(MAX_ATTRIBUTE_NAME_LENGTH)
          expect(toNameStd(nameStd)).toBe(nameStd)
          if (snake.length <= MAX_ATTRIBUTE_NAME_LENGTH) expect(nameStd).toBe(snake)
          else
            expect(snake.startsWith(nameStd.slice(0, SHORT_NAME_PREFIX_LENGTH).replace(/_+$/, ''))).toBe(true)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('two Engage audiences in one identify: two attributes, each created once', () => {
    const plan = planEvent(
      identify({
        order_completed_last_30days_high_value_customers: true,
        order_completed_last_30days_high_value_churned: false,
      }),
      [],
    )
    expect(ensured(plan)).toEqual([
      'clientuser:order_completed_last_30da_284b4f',
      'clientuser:order_completed_last_30da_55dc26',
    ])
    expect(userBody(plan)).toEqual({
      custom_id: 'u1',
      order_completed_last_30da_284b4f: 'true',
      order_completed_last_30da_55dc26: 'false',
    })
    // The values are kept; the shortening is reported (issue 18: a long name is never silent).
    expect(plan.dropped).toEqual([
      {
        field: 'traits.order_completed_last_30days_high_value_customers',
        reason: 'name longer than 32 characters: shortened to attribute order_completed_last_30da_284b4f',
      },
      {
        field: 'traits.order_completed_last_30days_high_value_churned',
        reason: 'name longer than 32 characters: shortened to attribute order_completed_last_30da_55dc26',
      },
    ])
  })

  it('an attribute in the catalog under the shortened name is used (and typed), not created again', () => {
    const plan = planEvent(identify({ order_completed_last_30days_high_value_customers: true }), [
      attr('order_completed_last_30da_284b4f', 'boolean'),
    ])
    expect(ensured(plan)).toEqual([])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', order_completed_last_30da_284b4f: true })
  })

  it('an attribute made under the old rule (cut to 32) is no longer written: it may hold two traits', () => {
    const plan = planEvent(identify({ order_completed_last_30days_high_value_customers: true }), [
      attr('order_completed_last_30days_high', 'boolean'),
    ])
    expect(ensured(plan)).toEqual(['clientuser:order_completed_last_30da_284b4f'])
    expect(userBody(plan)).not.toHaveProperty('order_completed_last_30days_high')
  })

  it('hostile names (30,000 capitals, digits, camelCase) are shortened: an attribute of 32 characters', () => {
    for (const name of [
      'A'.repeat(30_000),
      'aB'.repeat(15_000),
      '7'.repeat(30_000),
      `${'A'.repeat(30_000)}!`,
    ]) {
      const plan = planEvent(identify({ [name]: true }), [])
      const [ensure] = ensured(plan)
      expect(ensure).toMatch(/^clientuser:[a-z0-9_]{1,32}$/)
      expect(Object.keys(userBody(plan))).toEqual(['custom_id', ensure!.slice('clientuser:'.length)])
    }
  })
})

describe('traitKey (obj-case)', () => {
  it.each([
    ['firstName', 'firstname'],
    ['First Name', 'firstname'],
    ['first_name', 'firstname'],
  ])('%s → %s', (name, expected) => expect(traitKey(name)).toBe(expected))
})
