import { describe, expect, it } from '@jest/globals'
import { PlanSchema, SKIP_REASONS, planEvent } from '../index'
import { attr, event, identify } from './helpers'

// Issue 16, the planner's side: screen calls as events when the tenant opts in, and identify's
// reserved `company` trait as a company and a membership.

describe('screen: an event occurrence named like Segment\'s screen views, when the tenant sets screens: "event"', () => {
  const screen = event({
    type: 'screen',
    userId: 'u1',
    name: 'Home',
    properties: { variation: 'blue signup button' },
  })

  it('screens: "event" → resolve_user and create_event "Viewed Home Screen" with the properties as data', () => {
    const plan = planEvent(screen, [], { screens: 'event' })
    expect(PlanSchema.parse(plan).steps).toEqual([
      { op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: false },
      {
        op: 'create_event',
        key: 'event',
        customId: 'u1',
        body: {
          name: 'Viewed Home Screen',
          data: { variation: 'blue signup button' },
          timestamp: Math.floor(Date.parse(screen.timestamp) / 1000),
        },
      },
    ])
    expect(plan.skipped).toBeUndefined()
  })

  it('an unnamed screen is "Loaded a Screen" (as Segment names an unnamed page "Loaded a Page")', () => {
    const plan = planEvent(event({ type: 'screen', anonymousId: 'a1' }), [], { screens: 'event' })
    expect(plan.steps[1]).toMatchObject({
      op: 'create_event',
      customId: 'a1',
      body: { name: 'Loaded a Screen' },
    })
  })

  it('without the option (or screens: "skip"): skipped as before', () => {
    for (const options of [undefined, { screens: 'off' as const }]) {
      const plan = planEvent(screen, [], options)
      expect(plan).toMatchObject({ steps: [], skipped: SKIP_REASONS.screen })
    }
  })
})

describe("identify's reserved company trait: the company upserted and the user made a member, after the user", () => {
  it('segment-spec §4.1 company object: upsert by its id, industry and plan as company attributes, then the member', () => {
    const plan = planEvent(
      identify({
        email: 'peter@example.com',
        company: {
          id: 'c-42',
          name: 'Initech',
          industry: 'Technology',
          employee_count: 329,
          plan: 'enterprise',
        },
      }),
      [attr('plan', 'string', 'company')],
    )
    expect(PlanSchema.parse(plan).steps).toEqual([
      {
        op: 'upsert_user',
        key: 'user',
        customId: 'u1',
        body: { custom_id: 'u1', email: 'peter@example.com' },
      },
      {
        op: 'ensure_attribute',
        key: 'attribute:company:industry',
        contentType: 'company',
        name: 'industry',
        nameStd: 'industry',
        valueType: 'string',
      },
      {
        op: 'upsert_company',
        key: 'company',
        companyCustomId: 'c-42',
        body: { name: 'Initech', industry: 'Technology', size: 329, plan: 'enterprise' },
      },
      { op: 'add_company_member', key: 'member', companyCustomId: 'c-42', customId: 'u1' },
    ])
    expect(plan.dropped).toEqual([])
  })

  it('no more JSON-string attribute named company', () => {
    const plan = planEvent(identify({ company: { id: 7, name: 'Initech' } }), [])
    expect(plan.steps.some(s => s.op === 'ensure_attribute' && s.nameStd === 'company')).toBe(false)
    expect(plan.steps[0]).toEqual({
      op: 'upsert_user',
      key: 'user',
      customId: 'u1',
      body: { custom_id: 'u1' },
    })
    expect(plan.steps[1]).toMatchObject({
      op: 'upsert_company',
      companyCustomId: '7',
      body: { name: 'Initech' },
    })
  })

  it('without an id the company is found by its name; a plain name is a company of that name', () => {
    for (const company of [{ name: 'Initech' }, 'Initech']) {
      const plan = planEvent(identify({ company }), [])
      expect(plan.steps.slice(1)).toEqual([
        { op: 'upsert_company', key: 'company', companyCustomId: 'Initech', body: { name: 'Initech' } },
        { op: 'add_company_member', key: 'member', companyCustomId: 'Initech', customId: 'u1' },
      ])
    }
  })

  it('a company with neither id nor name, or null, plans no company (reported)', () => {
    const plan = planEvent(identify({ company: { industry: 'Tech' } }), [])
    expect(plan.steps.map(s => s.op)).toEqual(['upsert_user'])
    expect(plan.dropped).toEqual([
      { field: 'traits.company', reason: 'a company needs an id or a name to be found in User.com' },
    ])
    expect(planEvent(identify({ company: null }), []).dropped).toEqual([
      { field: 'traits.company', reason: 'null: User.com has no call that takes a user out of a company' },
    ])
  })

  it('company traits are reported under traits.company.*', () => {
    const plan = planEvent(identify({ company: { id: 'c1', employee_count: 'many', created_at: 'x' } }), [])
    expect(plan.dropped).toEqual([
      { field: 'traits.company.employee_count', reason: 'not a number of employees (size)' },
      {
        field: 'traits.company.created_at',
        reason: '"created_at" is a User.com field, not a custom attribute',
      },
    ])
  })

  it('user and company attributes of one name are two steps with two keys', () => {
    const plan = planEvent(identify({ plan: 'pro', company: { id: 'c1', plan: 'enterprise' } }), [])
    expect(plan.steps.map(s => s.key)).toEqual([
      'attribute:clientuser:plan',
      'user',
      'attribute:company:plan',
      'company',
      'member',
    ])
  })
})
