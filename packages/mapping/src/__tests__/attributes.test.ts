import { describe, expect, it } from '@jest/globals'
import { SPEC_FIXTURES } from '@ucd/segment/testing'
import { MAX_ATTRIBUTE_NAME_LENGTH, convertAttributeValue, planEvent, toNameStd } from '../index'
import { attr, ensured, fixtureEvents, identify, step, userBody } from './helpers'
import type { AttributeDef } from '../index'

describe('toNameStd: attribute names as User.com name_std (snake_case, at most 32 characters; longer ones shortened with a hash)', () => {
  it.each([
    ['plan', 'plan'],
    ['total billed', 'total_billed'],
    ['Total Billed', 'total_billed'],
    ['firstSeenAt', 'first_seen_at'],
    ['HTMLTitle', 'html_title'],
    ['ABTestGroup', 'ab_test_group'],
    ['last30Days', 'last30_days'],
    ['order_completed_last_30days', 'order_completed_last_30days'],
    ['API string attribute', 'api_string_attribute'],
    ['kebab-case-name', 'kebab_case_name'],
    ['a.b.c', 'a_b_c'],
    ['  --padded--  ', 'padded'],
    ['Ünïcödé Näme', 'unicode_name'],
    ['Zażółć gęślą', 'zazo_c_gesla'],
    ['this is a very long trait name that goes on and on', 'this_is_a_very_long_trait_655b70'],
    ['exactly_thirty_two_characters_xx', 'exactly_thirty_two_characters_xx'],
    ['abcdefghijklmnopqrstuvwxyz01234 tail', 'abcdefghijklmnopqrstuvwxy_ef9f0e'],
    ['名前', ''],
    ['!!!', ''],
  ])('%s → %s', (name, expected) => {
    expect(toNameStd(name)).toBe(expected)
    expect(toNameStd(name).length).toBeLessThanOrEqual(MAX_ATTRIBUTE_NAME_LENGTH)
    expect(toNameStd(toNameStd(name))).toBe(toNameStd(name))
  })
})

describe('"Other custom fields present in `traits` are added as custom attributes."', () => {
  it('by name_std, in the order sent, after the standard fields', () => {
    const plan = planEvent(
      identify({ plan: 'premium', 'Total Billed': 830, email: 'a@b.co', isVip: true }),
      [],
    )
    expect(userBody(plan)).toEqual({
      custom_id: 'u1',
      email: 'a@b.co',
      plan: 'premium',
      total_billed: '830',
      is_vip: 'true',
    })
  })

  it('drops a trait whose name has no letter or digit to build a name_std from', () => {
    const plan = planEvent(identify({ 名前: 'Taro', '???': 1 }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1' })
    expect(plan.dropped.map(d => d.field)).toEqual(['traits.名前', 'traits.???'])
    expect(plan.dropped[0]?.reason).toContain('no ASCII letter or digit')
  })

  it('two traits with one name_std: the first is used, the second reported', () => {
    const plan = planEvent(identify({ 'Plan Type': 'a', plan_type: 'b' }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', plan_type: 'a' })
    expect(plan.dropped).toEqual([
      { field: 'traits.plan_type', reason: 'same attribute "plan_type" as traits.Plan Type, which is used' },
    ])
  })
})

describe('"if a given trait has no respective custom attribute already defined in in User.com, it will be created with the type `string`!"', () => {
  it.each<[string, unknown, unknown]>([
    ['a string', 'premium', 'premium'],
    ['an integer', 999, '999'],
    ['a float', 14.99, '14.99'],
    ['a boolean', true, 'true'],
    ['a huge number', 1e21, '1e+21'],
    ['a negative zero', -0, '0'],
    ['an empty string', '', ''],
  ])('%s is sent as a string', (_name, value, expected) => {
    const plan = planEvent(identify({ trait: value }), [])
    expect(plan.steps[0]).toEqual({
      op: 'ensure_attribute',
      key: 'attribute:clientuser:trait',
      contentType: 'clientuser',
      name: 'trait',
      nameStd: 'trait',
      valueType: 'string',
    })
    expect(userBody(plan).trait).toBe(expected)
  })

  it('creates each missing attribute once, before the upsert, and only for values that are sent', () => {
    const plan = planEvent(identify({ a: 1, b: null, c: 'x' }), [attr('c', 'string')])
    expect(plan.steps.map(s => s.key)).toEqual(['attribute:clientuser:a', 'user'])
    expect(plan.dropped).toEqual([
      { field: 'traits.b', reason: 'null for attribute b, which does not exist: nothing to clear' },
    ])
  })

  it('the attribute is named by its name_std, so User.com derives the same name_std from it', () => {
    const plan = planEvent(identify({ 'A Very Long Trait Name Over Thirty-Two Chars': 'v' }), [])
    const ensure = step(plan, 'ensure_attribute')
    expect(ensure.name).toBe('a_very_long_trait_name_ov_4fd320')
    expect(toNameStd(ensure.name)).toBe(ensure.nameStd)
  })

  it('a catalog entry of the other content type does not count', () => {
    const plan = planEvent(identify({ plan: 'pro' }), [attr('plan', 'string', 'company')])
    expect(ensured(plan)).toEqual(['clientuser:plan'])
  })
})

describe('"if a custom attribute already exists, we\'ll try to convert given data to defined type, ignoring values that cannot be converted"', () => {
  const ok: [AttributeDef['valueType'], unknown, unknown, string[]?][] = [
    ['string', 'text', 'text'],
    ['string', 42, '42'],
    ['string', false, 'false'],
    ['integer', 123, 123],
    ['integer', '123', 123],
    ['integer', ' -7 ', -7],
    ['integer', '12.0', 12],
    ['integer', 12.0, 12],
    ['float', 14.99, 14.99],
    ['float', '14.99', 14.99],
    ['float', '1e3', 1000],
    ['float', 3, 3],
    ['boolean', true, true],
    ['boolean', 'true', true],
    ['boolean', 'No', false],
    ['boolean', 'yes', true],
    ['boolean', 1, true],
    ['boolean', '0', false],
    ['date', '2020-01-05', '2020-01-05'],
    ['date', '2020-1-5', '2020-01-05'],
    ['date', '2020-01-05T23:30:00-05:00', '2020-01-06'],
    ['date', 1426967129, '2015-03-21'],
    ['datetime', '2020-01-05', '2020-01-05T00:00:00.000Z'],
    ['datetime', '2015-2-02T00:30:08.276Z', '2015-02-02T00:30:08.276Z'],
    ['datetime', '2021-01-04T14:13:05.801+05:30', '2021-01-04T08:43:05.801Z'],
    ['datetime', 1426967129123, '2015-03-21T19:45:29.123Z'],
    ['fixed', 'Gold', 'Gold', ['Gold', 'Silver']],
    ['fixed', ' gold ', 'Gold', ['Gold', 'Silver']],
    ['fixed', 'anything', 'anything'],
    ['json', { a: 1 }, { a: 1 }],
    ['json', [1, 'x'], [1, 'x']],
    ['json', '{"a":1}', { a: 1 }],
    ['integer', null, null],
    ['date', null, null],
  ]
  // Rows padded to four values: Jest reads a test function with more parameters than values as a `done` test.
  it.each(ok.map(([t, v, e, c]) => [t, v, e, c] as const))(
    '%s: %p → %p',
    (valueType, value, expected, choices) => {
      const plan = planEvent(identify({ attr: value }), [attr('attr', valueType, 'clientuser', choices)])
      expect(userBody(plan)).toEqual({ custom_id: 'u1', attr: expected })
      expect(ensured(plan)).toEqual([])
      expect(plan.dropped).toEqual([])
    },
  )

  const refused: [AttributeDef['valueType'], unknown, string, string[]?][] = [
    ['integer', 12.5, 'not an integer'],
    ['integer', 'abc', 'not an integer'],
    ['integer', true, 'not an integer'],
    ['integer', '9007199254740993', 'not an integer'],
    ['integer', 1e21, 'not an integer'],
    ['float', 'x', 'not a number'],
    ['float', '', 'not a number'],
    ['float', false, 'not a number'],
    ['boolean', 'maybe', 'not a boolean'],
    ['boolean', 2, 'not a boolean'],
    ['date', 'soon', 'not a date'],
    ['date', '2020-02-30', 'not a date'],
    ['date', true, 'not a date'],
    ['datetime', 'yesterday', 'not a date-time'],
    ['fixed', 'Bronze', 'not one of the choices', ['Gold', 'Silver']],
    ['fixed', { a: 1 }, 'not one of the choices', ['Gold']],
    ['json', 5, 'not a JSON object or array'],
    ['json', 'not json', 'not a JSON object or array'],
  ]
  it.each(refused.map(([t, v, r, c]) => [t, v, r, c] as const))(
    '%s: %p is dropped (%s)',
    (valueType, value, reason, choices) => {
      const plan = planEvent(identify({ attr: value, kept: 'yes' }), [
        attr('attr', valueType, 'clientuser', choices),
      ])
      expect(userBody(plan)).toEqual({ custom_id: 'u1', kept: 'yes' })
      expect(plan.dropped).toEqual([
        { field: 'traits.attr', reason: `${reason}: cannot be converted to ${valueType} (attribute attr)` },
      ])
    },
  )

  it('a long string is cut to 255 characters and reported', () => {
    const plan = planEvent(identify({ bio: 'x'.repeat(300) }), [attr('bio', 'string')])
    expect(userBody(plan).bio).toBe('x'.repeat(255))
    expect(plan.dropped).toEqual([
      { field: 'traits.bio', reason: 'truncated to 255 characters (attribute bio)' },
    ])
  })

  it('a cut never splits a surrogate pair', () => {
    const plan = planEvent(identify({ bio: `${'x'.repeat(254)}😀😀` }), [])
    expect(userBody(plan).bio).toBe('x'.repeat(254))
  })
})

describe('the doc\'s example: "Let\'s assume you have created custom attribute `custom_integer` with type `number`"', () => {
  it("analytics.identify({ custom_integer: '123', custom_integer_new: 999 }): custom_integer is set to 123, custom_integer_new is created and set to '999'", () => {
    const catalog = [attr('custom_integer', 'integer')]
    const plan = planEvent(identify({ custom_integer: '123', custom_integer_new: 999 }), catalog)
    expect(plan.steps).toEqual([
      {
        op: 'ensure_attribute',
        key: 'attribute:clientuser:custom_integer_new',
        contentType: 'clientuser',
        name: 'custom_integer_new',
        nameStd: 'custom_integer_new',
        valueType: 'string',
      },
      {
        op: 'upsert_user',
        key: 'user',
        customId: 'u1',
        body: { custom_id: 'u1', custom_integer: 123, custom_integer_new: '999' },
      },
    ])
    expect(plan.dropped).toEqual([])
  })

  it('the same with a float attribute (the other User.com "number")', () => {
    const plan = planEvent(identify({ custom_integer: '123', custom_integer_new: 999 }), [
      attr('custom_integer', 'float'),
    ])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', custom_integer: 123, custom_integer_new: '999' })
  })
})

describe('nested objects and arrays: sent as is to a json attribute, as JSON text to a string attribute (≤ 255 characters), dropped for any other type', () => {
  const nested = { plan: { name: 'pro', seats: 5 } }
  it.each<[string, unknown, AttributeDef[], unknown, string | undefined]>([
    ['object, new attribute (string)', nested, [], '{"plan":{"name":"pro","seats":5}}', undefined],
    ['array, new attribute (string)', [1, 'two', { three: 3 }], [], '[1,"two",{"three":3}]', undefined],
    ['empty object, new attribute', {}, [], '{}', undefined],
    [
      'object, string attribute',
      nested,
      [attr('value', 'string')],
      '{"plan":{"name":"pro","seats":5}}',
      undefined,
    ],
    ['object, json attribute', nested, [attr('value', 'json')], nested, undefined],
    ['array, json attribute', ['a', ['b']], [attr('value', 'json')], ['a', ['b']], undefined],
    [
      'object, integer attribute',
      nested,
      [attr('value', 'integer')],
      undefined,
      'not an integer: cannot be converted to integer (attribute value)',
    ],
    [
      'array, boolean attribute',
      [true],
      [attr('value', 'boolean')],
      undefined,
      'not a boolean: cannot be converted to boolean (attribute value)',
    ],
    [
      'object whose JSON is over 255 characters, new attribute',
      { long: 'x'.repeat(300) },
      [],
      undefined,
      'JSON text longer than 255 characters for a string attribute (new string attribute value)',
    ],
  ])('%s', (_name, value, catalog, expected, reason) => {
    const plan = planEvent(identify({ value }), catalog)
    if (expected === undefined) expect(userBody(plan)).not.toHaveProperty('value')
    else expect(userBody(plan).value).toEqual(expected)
    expect(plan.dropped).toEqual(reason === undefined ? [] : [{ field: 'traits.value', reason }])
  })

  it('applies to group traits the same way', () => {
    const plan = planEvent(
      (() => {
        const events = fixtureEvents({
          name: 'g',
          route: 'group',
          body: { userId: 'u1', groupId: 'g1', traits: { meta: { tier: 1 } } },
        })
        return events[0]!
      })(),
      [],
    )
    expect(step(plan, 'upsert_company').body).toEqual({ meta: '{"tier":1}' })
  })
})

describe('convertAttributeValue (what the executor can reuse)', () => {
  it('null clears any type; the rest follows the value type', () => {
    expect(convertAttributeValue(null, { valueType: 'integer' })).toEqual({ ok: true, value: null })
    expect(convertAttributeValue('5', { valueType: 'integer' })).toEqual({ ok: true, value: 5 })
    expect(convertAttributeValue('x', { valueType: 'fixed', choices: ['a'] })).toEqual({
      ok: false,
      reason: 'not one of the choices',
    })
  })
})

describe('Engage: "The property name is the snake_cased version of the audience name, with a true/false value to indicate membership."', () => {
  it.each<[string, boolean, AttributeDef[], unknown, boolean]>([
    ['entered, no attribute yet: created as string', true, [], 'true', true],
    ['exited, no attribute yet', false, [], 'false', true],
    [
      'entered, boolean attribute defined',
      true,
      [attr('order_completed_last_30days', 'boolean')],
      true,
      false,
    ],
    [
      'exited, boolean attribute defined',
      false,
      [attr('order_completed_last_30days', 'boolean')],
      false,
      false,
    ],
  ])('%s', (_name, member, catalog, expected, creates) => {
    const context = {
      personas: {
        computation_class: 'audience',
        computation_id: 'aud_2djnfxHHnYGVQfOAEBroQ9Ti87N',
        space_id: 'spa_1',
      },
    }
    const plan = planEvent(identify({ order_completed_last_30days: member }, { context }), catalog)
    expect(userBody(plan)).toEqual({ custom_id: 'u1', order_completed_last_30days: expected })
    expect(ensured(plan)).toEqual(creates ? ['clientuser:order_completed_last_30days'] : [])
  })

  it('the segment-spec §9.4 audience identify lands first_time_shopper as an attribute', () => {
    const fixture = SPEC_FIXTURES.find(f => f.name === '9.4 Engage audience identify')!
    const plan = planEvent(fixtureEvents(fixture)[0]!, [attr('first_time_shopper', 'boolean')])
    expect(userBody(plan)).toEqual({ custom_id: 'u123', first_time_shopper: true })
  })
})
