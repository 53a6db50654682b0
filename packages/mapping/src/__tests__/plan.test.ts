import { describe, expect, it } from '@jest/globals'
import { SPEC_FIXTURES } from '@ucd/segment/testing'
import { PlanSchema, SKIP_REASONS, planEvent } from '../index'
import { event, fixture, fixtureEvents, group, identify } from './helpers'

describe('planEvent: the plan of each event type (step order and keys)', () => {
  it.each([
    ['identify', identify({ email: 'a@example.com', plan: 'pro' }), ['ensure_attribute', 'upsert_user']],
    ['track', event({ type: 'track', userId: 'u1', event: 'E' }), ['resolve_user', 'create_event']],
    [
      'page',
      event({ type: 'page', userId: 'u1', properties: { url: 'https://example.com/a' } }),
      ['resolve_user', 'create_page_view'],
    ],
    [
      'group',
      group({ name: 'Initech', plan: 'pro' }),
      ['ensure_attribute', 'resolve_user', 'upsert_company', 'add_company_member'],
    ],
    ['screen', event({ type: 'screen', userId: 'u1', name: 'Home' }), []],
    ['alias', event({ type: 'alias', userId: 'u1', previousId: 'p1' }), []],
  ])('%s', (_type, input, ops) => {
    const plan = planEvent(input, [])
    expect(PlanSchema.parse(plan).steps.map(s => s.op)).toEqual(ops)
    expect(plan).toMatchObject({ eventType: input.type, messageId: input.messageId, customId: 'u1' })
  })

  it('gives every step a unique key that is the same when the event is planned again', () => {
    const input = group({ name: 'Initech', plan: 'pro', industry: 'Tech' })
    const keys = planEvent(input, []).steps.map(s => s.key)
    expect(keys).toEqual([
      'attribute:company:plan',
      'attribute:company:industry',
      'user',
      'company',
      'member',
    ])
    expect(planEvent(input, []).steps.map(s => s.key)).toEqual(keys)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('page resolves the user with its user_key (site views need it), track without', () => {
    const page = planEvent(event({ type: 'page', userId: 'u1', properties: { url: 'https://x.io/' } }), [])
    const track = planEvent(event({ type: 'track', userId: 'u1', event: 'E' }), [])
    expect(page.steps[0]).toEqual({ op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: true })
    expect(track.steps[0]).toEqual({ op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: false })
  })

  it.each([
    ['screen', event({ type: 'screen', userId: 'u1' }), SKIP_REASONS.screen],
    ['alias', event({ type: 'alias', userId: 'u1', previousId: 'p' }), SKIP_REASONS.alias],
  ])(
    '"Accepts Page, Group, Identify, Track calls": %s has no operations, with a reason',
    (_t, input, reason) => {
      expect(planEvent(input, [])).toEqual({
        eventType: input.type,
        messageId: input.messageId,
        customId: 'u1',
        steps: [],
        dropped: [],
        skipped: reason,
      })
    },
  )
})

describe('every segment-spec.md §9 fixture normalises and plans without error', () => {
  it.each(SPEC_FIXTURES.map(f => [f.name, f] as const))('%s', (_name, f) => {
    for (const input of fixtureEvents(f)) {
      const plan = planEvent(input, [])
      expect(PlanSchema.safeParse(plan).success).toBe(true)
      expect(JSON.parse(JSON.stringify(plan))).toEqual(plan)
      if (input.type === 'screen' || input.type === 'alias') expect(plan.skipped).toBeDefined()
      else expect(plan.steps.length).toBeGreaterThan(0)
    }
  })

  it('9.2 identify: the whole user body', () => {
    const [input] = fixtureEvents(fixture('9.2 identify'))
    const plan = planEvent(input!, [])
    expect(plan.steps.at(-1)).toEqual({
      op: 'upsert_user',
      key: 'user',
      customId: '97980cfea0067',
      body: {
        custom_id: '97980cfea0067',
        email: 'peter@example.com',
        first_name: 'Peter',
        last_name: 'Gibbons',
        city: 'San Francisco',
        region: 'CA',
        country: 'USA',
        plan: 'premium',
        logins: '5',
        user_agent: expect.stringContaining('Chrome/40.0.2214.115') as unknown,
        os: 'Mac OS 10.9.5',
        device_name: 'Apple Macintosh',
        device_type: 'desktop',
        ip_address: '8.8.8.8',
        browser_family: 'Chrome',
        browser_version: '40.0.2214.115',
      },
    })
    expect(plan.dropped).toEqual([
      { field: 'traits.address.street', reason: 'no User.com user field for it' },
      { field: 'traits.address.postalCode', reason: 'no User.com user field for it' },
    ])
  })

  it('9.2 group: company body with the custom trait "total billed" as total_billed', () => {
    const [input] = fixtureEvents(fixture('9.2 group'))
    const plan = planEvent(input!, [])
    expect(plan.steps).toEqual([
      expect.objectContaining({ op: 'ensure_attribute', nameStd: 'industry', contentType: 'company' }),
      expect.objectContaining({ op: 'ensure_attribute', nameStd: 'plan', contentType: 'company' }),
      expect.objectContaining({ op: 'ensure_attribute', nameStd: 'total_billed', contentType: 'company' }),
      { op: 'resolve_user', key: 'user', customId: '97980cfea0067', needUserKey: false },
      {
        op: 'upsert_company',
        key: 'company',
        companyCustomId: '0e8c78ea9d97a7b8185e8632',
        body: { name: 'Initech', size: 329, industry: 'Technology', plan: 'enterprise', total_billed: '830' },
      },
      {
        op: 'add_company_member',
        key: 'member',
        companyCustomId: '0e8c78ea9d97a7b8185e8632',
        customId: '97980cfea0067',
      },
    ])
  })

  it('9.3 forwarded page: domain, path, no empty title or referrer', () => {
    const [input] = fixtureEvents(fixture('9.3'))
    const plan = planEvent(input!, [])
    expect(plan.steps[1]).toEqual({
      op: 'create_page_view',
      key: 'page_view',
      customId: '97980cfea0067',
      body: {
        page_domain: 'https://example.com',
        page_path: '/index.html',
        timestamp: '2019-06-21T17:36:42.812Z',
        page_title: 'Home',
      },
    })
  })
})
