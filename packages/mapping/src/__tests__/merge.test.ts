import { describe, expect, it } from '@jest/globals'
import { PlanSchema, SKIP_REASONS, planEvent, type PlanOptions } from '../index'
import { event, identify } from './helpers'

// The identity steps: an event with both ids ends with `merge_users` when the tenant merges; alias is
// a delivered call type (a merge of previousId into userId) with mergeAnonymous, skipped without.

const on = { mergeAnonymous: true }
const merge = (customId: string, anonymousId: string) => ({
  op: 'merge_users',
  key: 'merge',
  customId,
  anonymousId,
})

describe('merge_users in the plans of events that carry both ids', () => {
  it.each([
    ['identify', identify({ email: 'a@example.com' }, { anonymousId: 'a1' }), ['upsert_user']],
    [
      'track',
      event({ type: 'track', userId: 'u1', anonymousId: 'a1', event: 'E' }),
      ['resolve_user', 'create_event'],
    ],
    [
      'page',
      event({ type: 'page', userId: 'u1', anonymousId: 'a1', properties: { url: 'https://x.io/a' } }),
      ['resolve_user', 'create_page_view'],
    ],
    [
      'group',
      event({ type: 'group', userId: 'u1', anonymousId: 'a1', groupId: 'g', traits: {} }),
      ['resolve_user', 'upsert_company', 'add_company_member'],
    ],
  ])('%s: the merge comes last, parent = userId, child = anonymousId', (_type, input, before) => {
    const plan = PlanSchema.parse(planEvent(input, [], on))
    expect(plan.steps.map(s => s.op)).toEqual([...before, 'merge_users'])
    expect(plan.steps.at(-1)).toEqual(merge('u1', 'a1'))
    expect(plan.customId).toBe('u1')
  })

  it('no merge without the tenant setting, with only one id, or when both ids are the same', () => {
    const both = event({ type: 'track', userId: 'u1', anonymousId: 'a1', event: 'E' })
    const ops = (input: typeof both, options: PlanOptions = on) =>
      planEvent(input, [], options).steps.map(s => s.op)
    expect(ops(both, {})).not.toContain('merge_users')
    expect(ops(both, { mergeAnonymous: false })).not.toContain('merge_users')
    expect(ops(event({ type: 'track', userId: 'u1', event: 'E' }))).not.toContain('merge_users')
    expect(ops(event({ type: 'track', anonymousId: 'a1', event: 'E' }))).not.toContain('merge_users')
    expect(ops(event({ type: 'track', userId: 'same', anonymousId: 'same', event: 'E' }))).not.toContain(
      'merge_users',
    )
  })

  it('a screen the tenant skips stays skipped (no merge alone)', () => {
    const screen = event({ type: 'screen', userId: 'u1', anonymousId: 'a1', name: 'Home' })
    expect(planEvent(screen, [], on)).toMatchObject({ steps: [], skipped: SKIP_REASONS.screen })
    const delivered = planEvent(screen, [], { ...on, screens: 'event' })
    expect(delivered.steps.map(s => s.op)).toEqual(['resolve_user', 'create_event', 'merge_users'])
  })
})

describe('alias', () => {
  it('merges previousId into userId when the tenant merges', () => {
    const plan = planEvent(
      event({ type: 'alias', userId: 'u1', previousId: 'p1', anonymousId: 'a1' }),
      [],
      on,
    )
    expect(PlanSchema.parse(plan)).toMatchObject({ eventType: 'alias', customId: 'u1' })
    expect(plan.skipped).toBeUndefined()
    expect(plan.steps).toEqual([
      { op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: false },
      merge('u1', 'p1'),
    ])
  })

  it('is skipped with a reason without the setting, and when previousId is the userId', () => {
    const alias = event({ type: 'alias', userId: 'u1', previousId: 'p1' })
    expect(planEvent(alias, [])).toMatchObject({ steps: [], skipped: SKIP_REASONS.alias })
    expect(planEvent(alias, [], { mergeAnonymous: false }).skipped).toBe(SKIP_REASONS.alias)
    const self = event({ type: 'alias', userId: 'u1', previousId: 'u1' })
    expect(planEvent(self, [], on)).toMatchObject({ steps: [], skipped: SKIP_REASONS.aliasSelf })
  })
})
