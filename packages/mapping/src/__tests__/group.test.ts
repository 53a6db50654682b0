import { describe, expect, it } from '@jest/globals'
import { planEvent } from '../index'
import { attr, companyBody, ensured, event, group } from './helpers'
import type { AttributeDef } from '../index'

describe('"We will use the `groupId`. If a company is not found, we will automatically create new company instance and set its `groupId` to that that identifier."', () => {
  it.each([
    ['a string groupId', 'g-42', 'g-42'],
    ['a numeric groupId', 42, '42'],
  ])('%s is the company custom_id', (_name, groupId, expected) => {
    const plan = planEvent(event({ type: 'group', userId: 'u1', groupId, traits: { name: 'Initech' } }), [])
    expect(plan.steps.filter(s => s.op === 'upsert_company' || s.op === 'add_company_member')).toEqual([
      { op: 'upsert_company', key: 'company', companyCustomId: expected, body: { name: 'Initech' } },
      { op: 'add_company_member', key: 'member', companyCustomId: expected, customId: 'u1' },
    ])
  })
})

describe('"The user that owns the `userId` on this event will be associated with this company."', () => {
  it.each([
    ['userId', { userId: 'u1' }, 'u1'],
    ['anonymousId when there is no userId', { anonymousId: 'a1' }, 'a1'],
  ])('%s', (_name, ids, customId) => {
    const plan = planEvent(event({ type: 'group', groupId: 'g1', ...ids }), [])
    expect(plan.steps).toEqual([
      { op: 'resolve_user', key: 'user', customId, needUserKey: false },
      { op: 'upsert_company', key: 'company', companyCustomId: 'g1', body: {} },
      { op: 'add_company_member', key: 'member', companyCustomId: 'g1', customId },
    ])
  })
})

describe('"Semantic traits that are mapped are: `address`, `description`, `email`, `employees`, `name`, `phone`."', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['name', { name: 'Initech' }, { name: 'Initech' }],
    ['description', { description: 'Software' }, { description: 'Software' }],
    ['email', { email: 'hello@initech.com' }, { email: 'hello@initech.com' }],
    ['employees as a number → size', { employees: 420 }, { size: 420 }],
    ['employees as a string → size', { employees: '329' }, { size: 329 }],
    ['employees with a thousands separator', { employees: '1,000' }, { size: 1000 }],
    ['employees with spaces', { employees: ' 1 200 ' }, { size: 1200 }],
    ['Employees in another case', { Employees: 5 }, { size: 5 }],
    ['phone → phone_numbers, E.164', { phone: '+48 512 345 678' }, { phone_numbers: ['+48512345678'] }],
    [
      'a national phone read in the address country',
      { phone: '(415) 555-2671', address: { country: 'US' } },
      { phone_numbers: ['+14155552671'], address: 'US', country: 'US' },
    ],
    [
      'a phone that is not a valid number is kept as written',
      { phone: 'ext. 12' },
      { phone_numbers: ['ext. 12'] },
    ],
    [
      'several phones',
      { phone: ['+48512345678', '+48 512 345 678', '+14155552671'] },
      { phone_numbers: ['+48512345678', '+14155552671'] },
    ],
    [
      'address object → one readable line plus its parts',
      {
        address: {
          street: '6th St',
          city: 'San Francisco',
          state: 'CA',
          postalCode: '94103',
          country: 'USA',
        },
      },
      {
        address: '6th St, San Francisco, CA 94103, USA',
        city: 'San Francisco',
        region: 'CA',
        postal_code: '94103',
        country: 'USA',
      },
    ],
    [
      'address with snake_case postal_code and region',
      { address: { street: 'ul. Prosta 1', postal_code: '00-850', city: 'Warszawa', region: 'mazowieckie' } },
      {
        address: 'ul. Prosta 1, Warszawa, mazowieckie 00-850',
        city: 'Warszawa',
        region: 'mazowieckie',
        postal_code: '00-850',
      },
    ],
    ['address as a string', { address: '6th St, San Francisco' }, { address: '6th St, San Francisco' }],
    [
      'top-level city wins over address.city',
      { city: 'Oakland', address: { city: 'San Francisco' } },
      { city: 'Oakland', address: 'San Francisco' },
    ],
  ])('%s', (_name, traits, expected) => {
    const plan = planEvent(group(traits), [])
    expect(companyBody(plan)).toEqual(expected)
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([])
  })

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'employees that is not a number',
      { employees: 'many' },
      'traits.employees',
      'not a number of employees (size)',
    ],
    ['negative employees', { employees: -5 }, 'traits.employees', 'not a number of employees (size)'],
    ['fractional employees', { employees: 12.5 }, 'traits.employees', 'not a number of employees (size)'],
    ['an empty name', { name: ' ' }, 'traits.name', 'not a non-empty string (name)'],
    ['an email that is not an address', { email: 'hello' }, 'traits.email', 'not an email address (email)'],
    [
      'an empty address object',
      { address: {} },
      'traits.address',
      expect.stringContaining('not an address') as unknown as string,
    ],
    [
      'a reserved company field',
      { id: 'x' },
      'traits.id',
      '"id" is a User.com field, not a custom attribute',
    ],
    [
      'createdAt (a company field)',
      { createdAt: '2020-01-01' },
      'traits.createdAt',
      '"created_at" is a User.com field, not a custom attribute',
    ],
    [
      'tags (not part of the company body)',
      { tags: ['a'] },
      'traits.tags',
      '"tags" is a User.com field, not a custom attribute',
    ],
  ])('reports %s in dropped', (_name, traits, field, reason) => {
    const plan = planEvent(group(traits), [])
    expect(companyBody(plan)).toEqual({})
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([{ field, reason }])
  })
})

describe('"Any custom traits of the `.group()` call will follow same logic as `Identify` method."', () => {
  it.each<[string, Record<string, unknown>, AttributeDef[], Record<string, unknown>, string[]]>([
    [
      'a new trait: company attribute created as string',
      { industry: 'Technology' },
      [],
      { industry: 'Technology' },
      ['company:industry'],
    ],
    [
      'a number for a new attribute is sent as a string',
      { 'total billed': 830 },
      [],
      { total_billed: '830' },
      ['company:total_billed'],
    ],
    [
      'a defined integer attribute converts',
      { seats: '12' },
      [attr('seats', 'integer', 'company')],
      { seats: 12 },
      [],
    ],
    [
      'a defined boolean attribute converts',
      { Is_Partner: 'yes' },
      [attr('is_partner', 'boolean', 'company')],
      { is_partner: true },
      [],
    ],
    [
      'a user attribute of that name does not count',
      { plan: 'pro' },
      [attr('plan', 'integer')],
      { plan: 'pro' },
      ['company:plan'],
    ],
    [
      'Engage account audiences (audience_name: true)',
      { big_spenders: true },
      [],
      { big_spenders: 'true' },
      ['company:big_spenders'],
    ],
  ])('%s', (_name, traits, catalog, expected, ensure) => {
    const plan = planEvent(group(traits), catalog)
    expect(companyBody(plan)).toEqual(expected)
    expect(ensured(plan)).toEqual(ensure)
    expect(
      plan.steps
        .slice(0, ensure.length)
        .every(s => s.op === 'ensure_attribute' && s.contentType === 'company'),
    ).toBe(true)
  })

  it('a value a defined attribute cannot take is dropped and reported', () => {
    const plan = planEvent(group({ seats: 'a dozen', name: 'Initech' }), [
      attr('seats', 'integer', 'company'),
    ])
    expect(companyBody(plan)).toEqual({ name: 'Initech' })
    expect(plan.dropped).toEqual([
      { field: 'traits.seats', reason: 'not an integer: cannot be converted to integer (attribute seats)' },
    ])
  })
})
