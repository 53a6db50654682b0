import { describe, expect, it } from '@jest/globals'
import { RESERVED_NAMES } from '../fields'
import { nameStd } from '../names'

describe('name_std (snake-cased attribute name, usercom-api.md §5.1)', () => {
  it.each([
    ['API string attribute', 'api_string_attribute'],
    ['favoriteColor', 'favorite_color'],
    ['Plan Tier', 'plan_tier'],
    ['HTMLTitle', 'html_title'],
    ['userID', 'user_id'],
    ['v2Beta', 'v2_beta'],
    ['  --Plan--Tier__ ', 'plan_tier'],
    ['already_snake_case', 'already_snake_case'],
    ['Zażółć gęślą', 'zazo_c_gesla'],
    ['Café Crème', 'cafe_creme'],
    ['utm2', 'utm2'],
    ['🚀', ''],
    ['', ''],
  ])('%j → %j', (name, expected) => {
    expect(nameStd(name)).toBe(expected)
  })

  it('is idempotent on its own output', () => {
    for (const name of ['API string attribute', 'HTMLTitle', 'Zażółć gęślą', 'a1B2c3']) {
      expect(nameStd(nameStd(name))).toBe(nameStd(name))
    }
  })

  it('handles long runs of every character class in one pass', () => {
    const n = 30_000
    expect(nameStd('A'.repeat(n))).toBe('a'.repeat(n))
    expect(nameStd('aB'.repeat(n / 2))).toBe(Array.from({ length: n / 2 }, () => 'a_b').join(''))
    expect(nameStd('1'.repeat(n))).toBe('1'.repeat(n))
    expect(nameStd(' '.repeat(n))).toBe('')
    expect(nameStd(`x${'-_ '.repeat(n)}y`)).toBe('x_y')
    expect(nameStd('é'.repeat(n))).toBe('e'.repeat(n))
  })
})

describe('reserved names', () => {
  it('include the read-only user fields of §2.9 and the writable ones of §2.8', () => {
    const user = RESERVED_NAMES.clientuser
    for (const field of [
      'browser',
      'browser_language',
      'os_type',
      'resolution',
      'last_ip',
      'first_seen',
      'last_seen',
      'page_views',
      'created_at',
      'updated_at',
      'id',
      'user_key',
      'key',
      'name',
      'companies',
      'attributes',
      'custom_id',
      'email',
      'assigned_to',
      'company_id',
    ]) {
      expect(user?.has(field)).toBe(true)
    }
    expect(user?.has('plan')).toBe(false)
    expect(RESERVED_NAMES.company?.has('employees')).toBe(true)
    expect(RESERVED_NAMES.deal).toBeUndefined()
  })
})
