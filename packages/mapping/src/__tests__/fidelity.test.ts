import { describe, expect, it } from '@jest/globals'
import { planEvent } from '../index'
import { attr, companyBody, ensured, event, group, identify, step, userBody } from './helpers'

// Issue 17: keep what User.com accepts, drop only what it refuses. Each test shows the event and the
// plan it gets.

describe('length limits are applied before sending: a cut value is sent cut and reported', () => {
  it('a group whose address.street has 300 characters: address cut to 255, reported, the member still added', () => {
    const street = 's'.repeat(300)
    const plan = planEvent(group({ name: 'Initech', address: { street, city: 'Austin', country: 'US' } }), [])
    expect(plan.steps.map(s => s.op)).toEqual(['resolve_user', 'upsert_company', 'add_company_member'])
    expect(companyBody(plan)).toEqual({
      name: 'Initech',
      address: 's'.repeat(255),
      city: 'Austin',
      country: 'US',
    })
    expect(plan.dropped).toEqual([
      { field: 'traits.address', reason: 'truncated to 255 characters (address)' },
    ])
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string, string]>([
    ['company name', { name: 'n'.repeat(256) }, { name: 'n'.repeat(255) }, 'traits.name', 'name'],
    [
      'company description',
      { description: 'd'.repeat(300) },
      { description: 'd'.repeat(255) },
      'traits.description',
      'description',
    ],
    ['company city', { city: 'c'.repeat(300) }, { city: 'c'.repeat(255) }, 'traits.city', 'city'],
    ['company region', { region: 'r'.repeat(300) }, { region: 'r'.repeat(255) }, 'traits.region', 'region'],
    [
      'company country (from the address)',
      { address: { country: 'k'.repeat(300) } },
      { address: 'k'.repeat(255), country: 'k'.repeat(255) },
      'traits.address.country',
      'country',
    ],
    [
      'company postal code',
      { postalCode: '9'.repeat(300) },
      { postal_code: '9'.repeat(255) },
      'traits.postalCode',
      'postal_code',
    ],
  ])('group: %s', (_name, traits, body, field, target) => {
    const plan = planEvent(group(traits), [])
    expect(companyBody(plan)).toEqual(body)
    expect(plan.dropped).toContainEqual({ field, reason: `truncated to 255 characters (${target})` })
    expect(step(plan, 'add_company_member').companyCustomId).toBe('g1')
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string, string]>([
    ['city', { city: 'c'.repeat(256) }, { city: 'c'.repeat(255) }, 'traits.city', '255 characters (city)'],
    [
      'region',
      { region: 'r'.repeat(300) },
      { region: 'r'.repeat(255) },
      'traits.region',
      '255 characters (region)',
    ],
    [
      'country from the address',
      { address: { country: 'k'.repeat(300) } },
      { country: 'k'.repeat(255) },
      'traits.address.country',
      '255 characters (country)',
    ],
    [
      'a tag',
      { tags: ['vip', 't'.repeat(300)] },
      { tags: ['vip', 't'.repeat(255)] },
      'traits.tags',
      '255 characters (tags)',
    ],
    [
      'an avatar URL',
      { avatar: `https://a.io/${'p'.repeat(2100)}` },
      { gravatar_url: `https://a.io/${'p'.repeat(2100)}`.slice(0, 2000) },
      'traits.avatar',
      '2000 characters (gravatar_url)',
    ],
    [
      'first name from name',
      { name: `${'F'.repeat(45)} Smith` },
      { first_name: 'F'.repeat(40), last_name: 'Smith' },
      'traits.name',
      '40 characters (first_name)',
    ],
  ])('identify: %s', (_name, traits, body, field, reason) => {
    const plan = planEvent(identify(traits), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', ...body })
    expect(plan.dropped).toEqual([{ field, reason: `truncated to ${reason}` }])
  })

  it('track: an event name of 300 characters is sent as its first 255', () => {
    const plan = planEvent(event({ type: 'track', userId: 'u1', event: 'E'.repeat(300) }), [])
    expect(step(plan, 'create_event').body.name).toBe('E'.repeat(255))
    expect(plan.dropped).toEqual([{ field: 'event', reason: 'truncated to 255 characters (name)' }])
  })

  it('page: a path and a referrer over 2,000 characters are cut', () => {
    const long = `/${'p'.repeat(2500)}`
    const plan = planEvent(
      event({
        type: 'page',
        userId: 'u1',
        properties: { url: 'https://example.com/', path: long, referrer: `https://r.io${long}` },
      }),
      [],
    )
    const body = step(plan, 'create_page_view').body
    expect(body.page_path).toBe(long.slice(0, 2000))
    expect(body.referrer).toBe(`https://r.io${long}`.slice(0, 2000))
    expect(plan.dropped).toEqual([
      { field: 'properties.path', reason: 'truncated to 2000 characters (page_path)' },
      { field: 'properties.referrer', reason: 'truncated to 2000 characters (referrer)' },
    ])
  })
})

describe('null clears a reserved trait (segment-spec.md §4: "A reserved trait sent as null replaces the stored value with null")', () => {
  it('identify: null email, phone, names, address, avatar and time zone are sent as null', () => {
    const plan = planEvent(
      identify({
        email: null,
        phone: null,
        firstName: null,
        last_name: null,
        address: null,
        avatar: null,
        timezone: null,
      }),
      [],
    )
    expect(userBody(plan)).toEqual({
      custom_id: 'u1',
      email: null,
      phone_number: null,
      first_name: null,
      last_name: null,
      gravatar_url: null,
      timezone: null,
      city: null,
      region: null,
      country: null,
    })
    expect(plan.dropped).toEqual([])
  })

  it('identify: an omitted trait is not sent (keeps its value); a null name clears first and last name', () => {
    expect(userBody(planEvent(identify({ email: 'a@b.co' }), []))).toEqual({
      custom_id: 'u1',
      email: 'a@b.co',
    })
    expect(userBody(planEvent(identify({ name: null }), []))).toEqual({
      custom_id: 'u1',
      first_name: null,
      last_name: null,
    })
  })

  it('identify: a null address part clears that field; a top-level trait still wins', () => {
    const plan = planEvent(identify({ city: 'Berlin', address: { city: null, country: null } }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', city: 'Berlin', country: null })
  })

  it("identify: gender null goes back to User.com's default, 1 (unknown)", () => {
    expect(userBody(planEvent(identify({ gender: null }), []))).toEqual({ custom_id: 'u1', gender: 1 })
  })

  it('identify: fields User.com takes no null for (tags, score, status, booleans) are reported, not sent', () => {
    const plan = planEvent(identify({ tags: null, score: null, unsubscribed: null }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1' })
    expect(plan.dropped).toEqual([
      { field: 'traits.tags', reason: 'null does not clear tags: User.com takes no null for it' },
      { field: 'traits.score', reason: 'null does not clear score: User.com takes no null for it' },
      {
        field: 'traits.unsubscribed',
        reason: 'null does not clear unsubscribed: User.com takes no null for it',
      },
    ])
  })

  it('identify: a null custom attribute clears it when it exists, and is reported when it does not', () => {
    const plan = planEvent(identify({ plan: null, other: null }), [attr('plan', 'string')])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', plan: null })
    expect(plan.dropped).toEqual([
      { field: 'traits.other', reason: 'null for attribute other, which does not exist: nothing to clear' },
    ])
  })

  it('group: null name, email, employees and address clear them; a null phone empties phone_numbers', () => {
    const plan = planEvent(
      group({ name: null, email: null, employees: null, phone: null, address: null }),
      [],
    )
    expect(companyBody(plan)).toEqual({
      name: null,
      email: null,
      size: null,
      phone_numbers: [],
      address: null,
      city: null,
      region: null,
      country: null,
      postal_code: null,
    })
    expect(plan.dropped).toEqual([])
  })
})

describe('national phone numbers: the country may be a name, an ISO-2 or an ISO-3 code (i18n-iso-countries)', () => {
  it.each([['United States'], ['USA'], ['US'], ['us'], ['united states of america']])(
    '"(415) 555-0132" with address.country %s → +14155550132',
    country => {
      const plan = planEvent(identify({ phone: '(415) 555-0132', address: { country } }), [])
      expect(userBody(plan)).toEqual({ custom_id: 'u1', phone_number: '+14155550132', country })
      expect(plan.dropped).toEqual([])
    },
  )

  it.each<[string, string, string | undefined]>([
    ['Poland', '512 345 678', '+48512345678'],
    ['POL', '512 345 678', '+48512345678'],
    ['United Kingdom', '020 7946 0018', '+442079460018'],
    ['UK', '020 7946 0018', '+442079460018'],
    ['Deutschland', '030 1234567', undefined], // not an English name: no country, no E.164
  ])('the country trait %s', (country, phone, expected) => {
    const plan = planEvent(identify({ phone, country }), [])
    expect(userBody(plan).phone_number).toBe(expected)
  })

  it('a number that still cannot be made E.164 is dropped and reported (no custom attribute phone)', () => {
    const plan = planEvent(identify({ phone: '555-0132', address: { country: 'Atlantis' } }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', country: 'Atlantis' })
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([
      {
        field: 'traits.phone',
        reason:
          'not a phone number User.com takes (E.164; a national number needs traits.country or address.country)',
      },
    ])
  })
})

describe('context values whose User.com field is read-only never become an attribute named like it', () => {
  it("context.screen → screen_resolution (User.com's resolution is read-only), ip → ip_address, locale → language", () => {
    const plan = planEvent(
      identify({}, { context: { screen: { width: 390, height: 844 }, ip: '8.8.8.8', locale: 'en-US' } }),
      [],
    )
    expect(userBody(plan)).toEqual({
      custom_id: 'u1',
      language: 'en-US',
      screen_resolution: '390x844',
      ip_address: '8.8.8.8',
    })
    expect(ensured(plan)).toEqual([
      'clientuser:language',
      'clientuser:screen_resolution',
      'clientuser:ip_address',
    ])
  })

  it.each([
    ['resolution'],
    ['browser'],
    ['browser_language'],
    ['os_type'],
    ['last_ip'],
    ['first_seen'],
    ['last_seen'],
  ])('a trait named %s (a read-only user field) is dropped, never created as an attribute', name => {
    const plan = planEvent(identify({ [name]: 'x' }), [])
    expect(ensured(plan)).toEqual([])
    expect(plan.dropped).toEqual([
      { field: `traits.${name}`, reason: `"${name}" is a User.com field, not a custom attribute` },
    ])
  })
})

describe('reserved traits kept: createdAt as signed_up_at (datetime), any gender word', () => {
  it('createdAt → the datetime attribute signed_up_at, created as datetime when missing', () => {
    const plan = planEvent(identify({ createdAt: '2015-2-02T00:30:08.276Z' }), [])
    expect(plan.steps[0]).toEqual({
      op: 'ensure_attribute',
      key: 'attribute:clientuser:signed_up_at',
      contentType: 'clientuser',
      name: 'signed_up_at',
      nameStd: 'signed_up_at',
      valueType: 'datetime',
    })
    expect(userBody(plan)).toEqual({ custom_id: 'u1', signed_up_at: '2015-02-02T00:30:08.276Z' })
  })

  it('created_at in Unix seconds, with the attribute already in the catalog as a date', () => {
    const plan = planEvent(identify({ created_at: 1426967129 }), [attr('signed_up_at', 'date')])
    expect(ensured(plan)).toEqual([])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', signed_up_at: '2015-03-21' })
  })

  it('a createdAt that is not a date is reported', () => {
    const plan = planEvent(identify({ createdAt: 'last tuesday' }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1' })
    expect(plan.dropped).toEqual([
      { field: 'traits.createdAt', reason: 'not a date-time (new datetime attribute signed_up_at)' },
    ])
  })

  it.each([
    ['other', 1],
    ['non-binary', 1],
    ['prefer not to say', 1],
    ['Unknown', 1],
    ['Woman', 3],
    ['man', 2],
  ])('gender %s → %s', (gender, expected) => {
    const plan = planEvent(identify({ gender }), [])
    expect(userBody(plan)).toEqual({ custom_id: 'u1', gender: expected })
    expect(plan.dropped).toEqual([])
  })
})

describe('page calls without an absolute URL (server-side) count when the tenant sets pageDomain', () => {
  const serverPage = event({
    type: 'page',
    userId: 'u1',
    name: 'Pricing',
    properties: { path: '/pricing', search: '?plan=pro' },
  })

  it('with pageDomain: a page view on that site', () => {
    const plan = planEvent(serverPage, [], { pageDomain: 'https://www.example.com' })
    expect(plan.steps).toEqual([
      { op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: true },
      {
        op: 'create_page_view',
        key: 'page_view',
        customId: 'u1',
        body: {
          page_domain: 'https://www.example.com',
          page_path: '/pricing?plan=pro',
          timestamp: serverPage.timestamp,
          page_title: 'Pricing',
        },
      },
    ])
    expect(plan.dropped).toEqual([])
  })

  it('a relative properties.url is a path too; a protocol-relative one (//other.host) is not', () => {
    const relative = event({ type: 'page', userId: 'u1', properties: { url: '/docs?a=1' } })
    const body = step(
      planEvent(relative, [], { pageDomain: 'https://www.example.com/' }),
      'create_page_view',
    ).body
    expect(body).toMatchObject({ page_domain: 'https://www.example.com', page_path: '/docs?a=1' })
    const other = event({ type: 'page', userId: 'u1', properties: { url: '//other.host/x' } })
    expect(planEvent(other, [], { pageDomain: 'https://www.example.com' }).steps.map(s => s.op)).toEqual([
      'resolve_user',
    ])
  })

  it('an absolute URL still wins over pageDomain', () => {
    const page = event({ type: 'page', userId: 'u1', properties: { url: 'https://shop.example.org/cart' } })
    const body = step(planEvent(page, [], { pageDomain: 'https://www.example.com' }), 'create_page_view').body
    expect(body.page_domain).toBe('https://shop.example.org')
  })

  it('without pageDomain: reported as before, and the user is still resolved (created)', () => {
    const plan = planEvent(serverPage, [])
    expect(plan.steps.map(s => s.op)).toEqual(['resolve_user'])
    expect(plan.dropped).toEqual([
      {
        field: 'context.page.url',
        reason: 'no page view: it needs an absolute http(s) URL (properties.url or context.page.url)',
      },
    ])
  })

  it('with pageDomain but no path at all: no page view, reported', () => {
    const plan = planEvent(event({ type: 'page', userId: 'u1', name: 'Home' }), [], {
      pageDomain: 'https://www.example.com',
    })
    expect(plan.steps.map(s => s.op)).toEqual(['resolve_user'])
    expect(plan.dropped[0]?.reason).toBe(
      "no page view: it needs an absolute http(s) URL, or a path on the tenant's pageDomain",
    )
  })
})
