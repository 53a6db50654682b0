import { describe, expect, it } from '@jest/globals'
import { planEvent } from '../index'
import { attr, ensured, event, group, identify, step, userBody } from './helpers'
import type { SegmentEvent } from '@ucd/segment'

const UA_MAC_CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36'
const UA_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'

describe('"all available methods will try to select user base on `userId`, falling back to `anonymousId` if `userId` is not provided"', () => {
  const ids = [
    ['userId only', { userId: 'u1' }, 'u1'],
    ['anonymousId only', { anonymousId: 'a1' }, 'a1'],
    ['both: userId wins', { userId: 'u1', anonymousId: 'a1' }, 'u1'],
    ['numeric userId', { userId: 42 }, '42'],
  ] as const
  const types: [string, Record<string, unknown>][] = [
    ['identify', { type: 'identify', traits: { email: 'x@example.com' } }],
    ['track', { type: 'track', event: 'E' }],
    ['page', { type: 'page', properties: { url: 'https://example.com/' } }],
    ['group', { type: 'group', groupId: 'g1' }],
  ]
  const rows = types.flatMap(([type, raw]) =>
    ids.map(([name, id, expected]) => [type, name, raw, id, expected] as const),
  )

  it.each(rows)('%s, %s', (_type, _name, raw, id, expected) => {
    const plan = planEvent(event({ ...raw, ...id }), [])
    expect(plan.customId).toBe(expected)
    for (const s of plan.steps) {
      if ('customId' in s) expect(s.customId).toBe(expected)
    }
    if (raw.type === 'identify') expect(userBody(plan).custom_id).toBe(expected)
  })
})

describe('"If user with given identifier does not exist in your app it will be created automatically"', () => {
  it.each<[string, SegmentEvent, string]>([
    ['identify upserts by custom_id', identify({}), 'upsert_user'],
    [
      'track resolves (creating when missing) before the event',
      event({ type: 'track', userId: 'u1', event: 'E' }),
      'resolve_user',
    ],
    [
      'page resolves first',
      event({ type: 'page', userId: 'u1', properties: { url: 'https://a.io/' } }),
      'resolve_user',
    ],
    ['group resolves the member first', group({}), 'resolve_user'],
  ])('%s', (_name, input, op) => {
    const steps = planEvent(input, []).steps.filter(s => s.op !== 'ensure_attribute')
    expect(steps[0]?.op).toBe(op)
  })

  it('an identify without traits is still an upsert that creates the user', () => {
    expect(userBody(planEvent(identify({}), []))).toEqual({ custom_id: 'u1' })
  })
})

describe('"Traits that are mapped are: email, first_name, last_name, phone, gender" (case/format-insensitive)', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['email', { email: 'peter@example.com' }, { email: 'peter@example.com' }],
    ['email, trimmed', { email: ' peter@example.com ' }, { email: 'peter@example.com' }],
    ['first_name', { first_name: 'Peter' }, { first_name: 'Peter' }],
    ['firstName', { firstName: 'Peter' }, { first_name: 'Peter' }],
    ['"First Name"', { 'First Name': 'Peter' }, { first_name: 'Peter' }],
    ['FirstName', { FirstName: 'Peter' }, { first_name: 'Peter' }],
    ['last_name', { last_name: 'Gibbons' }, { last_name: 'Gibbons' }],
    ['lastName', { lastName: 'Gibbons' }, { last_name: 'Gibbons' }],
    ['"Last Name"', { 'Last Name': 'Gibbons' }, { last_name: 'Gibbons' }],
    ['first name cut to 40 characters', { firstName: 'A'.repeat(50) }, { first_name: 'A'.repeat(40) }],
    ['last name cut to 40 characters', { lastName: 'B'.repeat(41) }, { last_name: 'B'.repeat(40) }],
    ['name alone is split', { name: 'Peter Gibbons' }, { first_name: 'Peter', last_name: 'Gibbons' }],
    ['name with three words', { name: 'Mary Ann Smith' }, { first_name: 'Mary', last_name: 'Ann Smith' }],
    ['name of one word', { name: 'Cher' }, { first_name: 'Cher' }],
    [
      'name is ignored when first/last are sent',
      { name: 'P G', firstName: 'Peter' },
      { first_name: 'Peter' },
    ],
    ['phone in E.164', { phone: '+48512345678' }, { phone_number: '+48512345678' }],
    ['phone with spaces', { phone: '+48 512 345 678' }, { phone_number: '+48512345678' }],
    ['phone with 00 prefix', { phone: '0048 512 345 678' }, { phone_number: '+48512345678' }],
    [
      'national phone read in the address country',
      { phone: '(415) 555-2671', address: { country: 'us' } },
      { phone_number: '+14155552671', country: 'us' },
    ],
    [
      'national phone read in the country trait',
      { phone: '512 345 678', country: 'PL' },
      { phone_number: '+48512345678', country: 'PL' },
    ],
    ['phoneNumber spelling', { phoneNumber: '+48512345678' }, { phone_number: '+48512345678' }],
    ['gender male', { gender: 'male' }, { gender: 2 }],
    ['gender Male', { gender: 'Male' }, { gender: 2 }],
    ['gender M', { gender: 'M' }, { gender: 2 }],
    ['gender m', { gender: 'm' }, { gender: 2 }],
    ['gender FEMALE', { gender: 'FEMALE' }, { gender: 3 }],
    ['gender f', { gender: 'f' }, { gender: 3 }],
    ['gender F', { gender: ' F ' }, { gender: 3 }],
    ['gender unknown', { gender: 'unknown' }, { gender: 1 }],
    ['gender U', { gender: 'U' }, { gender: 1 }],
    ['gender already an integer', { gender: 3 }, { gender: 3 }],
  ])('%s', (_name, traits, expected) => {
    const plan = planEvent(identify(traits), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', ...expected })
    expect(ensured(plan)).toEqual([])
  })

  it.each<[string, Record<string, unknown>]>([
    ['a phone that is not a valid number', { phone: 'call me' }],
    ['a national phone without a known country', { phone: '(415) 555-2671' }],
    ['a too-short number', { phone: '+48 12' }],
  ])('%s is dropped and reported (User.com takes only E.164; no custom attribute phone)', (_name, traits) => {
    const plan = planEvent(identify(traits), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1' })
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([
      {
        field: 'traits.phone',
        reason:
          'not a phone number User.com takes (E.164; a national number needs traits.country or address.country)',
      },
    ])
  })

  it.each<[string, Record<string, unknown>, string, string]>([
    ['gender that is not a word', { gender: 7 }, 'traits.gender', 'not a gender word or 1, 2, 3 (gender)'],
    ['email as an object', { email: { a: 1 } }, 'traits.email', 'not an email address (email)'],
    [
      'email that is not an address',
      { email: 'peter at example' },
      'traits.email',
      'not an email address (email)',
    ],
    [
      'unknown time zone',
      { timezone: 'Mars/Olympus' },
      'traits.timezone',
      'not a time zone name such as Europe/Warsaw (timezone)',
    ],
    ['avatar that is not a URL', { avatar: 'me.png' }, 'traits.avatar', 'not an http(s) URL (gravatar_url)'],
    [
      'first name cut',
      { first_name: 'x'.repeat(41) },
      'traits.first_name',
      'truncated to 40 characters (first_name)',
    ],
    [
      'second spelling of the same trait',
      { firstName: 'A', first_name: 'B' },
      'traits.first_name',
      'same trait as traits.firstName, which is used',
    ],
  ])('reports %s in dropped', (_name, traits, field, reason) => {
    expect(planEvent(identify(traits), []).dropped).toContainEqual({ field, reason })
  })

  it('standard traits never also become custom attributes', () => {
    const plan = planEvent(
      identify({
        email: 'a@b.co',
        firstName: 'A',
        last_name: 'B',
        phone: '+48512345678',
        gender: 'f',
        name: 'A B',
      }),
      [attr('email', 'string'), attr('phone', 'string'), attr('gender', 'string')],
    )
    expect(ensured(plan)).toEqual([])
    expect(Object.keys(userBody(plan)).sort()).toEqual([
      'custom_id',
      'email',
      'first_name',
      'gender',
      'last_name',
      'phone_number',
    ])
  })

  it.each([
    ['id'],
    ['browser'],
    ['resolution'],
    ['last_ip'],
    ['custom_id'],
    ['user_key'],
    ['last_seen'],
    ['page_views'],
  ])('a trait named like a User.com user field (%s) is dropped, not made an attribute', key => {
    const plan = planEvent(identify({ [key]: 'x' }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1' })
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([
      { field: `traits.${key}`, reason: expect.stringContaining('is a User.com field') },
    ])
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['avatar → gravatar_url', { avatar: 'https://a.io/p.png' }, { gravatar_url: 'https://a.io/p.png' }],
    ['unsubscribed', { unsubscribed: 'true' }, { unsubscribed: true }],
    ['score', { score: '12' }, { score: 12 }],
    ['status', { status: 'User' }, { status: 2 }],
    ['tags as a list', { tags: ['vip', 'beta', 'vip'] }, { tags: ['vip', 'beta'] }],
    ['one tag', { tags: 'vip' }, { tags: ['vip'] }],
    ['timezone', { timezone: 'Europe/Warsaw' }, { timezone: 'Europe/Warsaw' }],
  ])('other writable standard fields: %s', (_name, traits, expected) => {
    expect(userBody(planEvent(identify(traits), []))).toEqual({ custom_id: 'u1', ...expected })
  })
})

describe('"`address` is mapped to `country`, `region` and `city` fields if possible."', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'the spec address',
      {
        address: {
          street: '6th St',
          city: 'San Francisco',
          state: 'CA',
          postalCode: '94103',
          country: 'USA',
        },
      },
      { city: 'San Francisco', region: 'CA', country: 'USA' },
    ],
    ['region spelled region', { address: { region: 'Mazowieckie' } }, { region: 'Mazowieckie' }],
    ['city only', { address: { city: 'Kraków' } }, { city: 'Kraków' }],
    [
      'Address in another case',
      { Address: { City: 'Paris', Country: 'FR' } },
      { city: 'Paris', country: 'FR' },
    ],
    [
      'a top-level city wins over address.city',
      { city: 'Berlin', address: { city: 'Bonn' } },
      { city: 'Berlin' },
    ],
    ['blank parts are ignored', { address: { city: ' ', country: 'PL' } }, { country: 'PL' }],
  ])('%s', (_name, traits, expected) => {
    expect(userBody(planEvent(identify(traits), []))).toEqual({ custom_id: 'u1', ...expected })
  })

  it('reports the address parts User.com users have no field for, and an address that is not an object', () => {
    expect(planEvent(identify({ address: { street: '6th St', postalCode: '94103' } }), []).dropped).toEqual([
      { field: 'traits.address.street', reason: 'no User.com user field for it' },
      { field: 'traits.address.postalCode', reason: 'no User.com user field for it' },
    ])
    expect(planEvent(identify({ address: '6th St, SF' }), []).dropped).toEqual([
      { field: 'traits.address', reason: 'address must be an object (city, state, country, ...)' },
    ])
  })
})

describe('"following data is extracted from context and mapped to user profile\'s fields: `user_agent`, `os`, `device_name`, `device_type`, `language`, `resolution`, `ip_address`, `browser_family`, `browser_version`, `timezone`, `current_url`"', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'desktop Chrome user agent, parsed',
      { userAgent: UA_MAC_CHROME },
      {
        user_agent: UA_MAC_CHROME,
        os: 'Mac OS 10.9.5',
        device_name: 'Apple Macintosh',
        device_type: 'desktop',
        browser_family: 'Chrome',
        browser_version: '40.0.2214.115',
      },
    ],
    [
      'iPhone user agent, parsed',
      { userAgent: UA_IPHONE },
      {
        user_agent: UA_IPHONE,
        os: 'iOS 17.0',
        device_name: 'Apple iPhone',
        device_type: 'mobile',
        browser_family: 'Mobile Safari',
        browser_version: '17.0',
      },
    ],
    [
      'context.os and context.device win over the user agent',
      {
        userAgent: UA_IPHONE,
        os: { name: 'iOS', version: '17.1.2' },
        device: { manufacturer: 'Apple', model: 'iPhone16,2', type: 'ios' },
      },
      {
        user_agent: UA_IPHONE,
        os: 'iOS 17.1.2',
        device_name: 'Apple iPhone16,2',
        device_type: 'ios',
        browser_family: 'Mobile Safari',
        browser_version: '17.0',
      },
    ],
    [
      'device name from context',
      { device: { name: 'Apple iPhone 6', type: 'phone' } },
      { device_name: 'Apple iPhone 6', device_type: 'phone' },
    ],
    ['locale → language', { locale: 'pl-PL' }, { language: 'pl-PL' }],
    [
      "screen → screen_resolution (User.com's own `resolution` is a read-only standard field)",
      { screen: { width: 1920, height: 1080, density: 2 } },
      { screen_resolution: '1920x1080' },
    ],
    ['half a screen is no resolution', { screen: { width: 1920 } }, {}],
    ['ip → ip_address', { ip: '8.8.8.8' }, { ip_address: '8.8.8.8' }],
    [
      'page.url → current_url',
      { page: { url: 'https://example.com/a?b=1' } },
      { current_url: 'https://example.com/a?b=1' },
    ],
    [
      'timezone → the standard field timezone',
      { timezone: 'America/New_York' },
      { timezone: 'America/New_York' },
    ],
    [
      'a library user agent gives only user_agent',
      { userAgent: 'analytics-node-next/latest' },
      { user_agent: 'analytics-node-next/latest' },
    ],
    [
      'library, campaign and other context keys are not mapped',
      { library: { name: 'analytics.js' }, campaign: { name: 'x' } },
      {},
    ],
  ])('%s', (_name, context, expected) => {
    const plan = planEvent(identify({}, { context }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', ...expected })
    const custom = Object.keys(expected).filter(k => k !== 'timezone')
    expect(ensured(plan)).toEqual(custom.map(k => `clientuser:${k}`))
    expect(plan.dropped).toEqual([])
  })

  it('context attributes are typed by the catalog like any custom attribute (no creation when defined)', () => {
    const plan = planEvent(identify({}, { context: { ip: '8.8.8.8', screen: { width: 1, height: 2 } } }), [
      attr('ip_address', 'string'),
      attr('screen_resolution', 'integer'),
    ])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', ip_address: '8.8.8.8' })
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([
      {
        field: 'context.screen',
        reason: 'not an integer: cannot be converted to integer (attribute screen_resolution)',
      },
    ])
  })

  it('a context time zone that is not one is reported, not sent', () => {
    const plan = planEvent(identify({}, { context: { timezone: 'GMT+25' } }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1' })
    expect(plan.dropped).toEqual([{ field: 'context.timezone', reason: 'not a time zone name (timezone)' }])
  })

  it('traits win over context (timezone, and a custom trait with a context attribute name)', () => {
    const plan = planEvent(
      identify(
        { timezone: 'Europe/Warsaw', language: 'en' },
        { context: { timezone: 'UTC', locale: 'pl-PL' } },
      ),
      [],
    )
    expect(userBody(plan)).toEqual({ custom_id: 'u1', timezone: 'Europe/Warsaw', language: 'en' })
    expect(plan.dropped).toEqual([])
  })

  it('only identify maps context (track, page and group carry the user, not its profile)', () => {
    const context = { ip: '8.8.8.8', userAgent: UA_MAC_CHROME }
    const track = planEvent(event({ type: 'track', userId: 'u1', event: 'E', context }), [])
    expect(track.steps.map(s => s.op)).toEqual(['resolve_user', 'create_event'])
    expect(step(track, 'create_event').body.data).toEqual({})
  })
})
