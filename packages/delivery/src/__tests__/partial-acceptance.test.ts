import { describe, expect, it } from '@jest/globals'
import type { Plan } from '@ucd/mapping'
import { UsercomRejectedError } from '@ucd/usercom-client'
import { PartialAcceptance } from '../steps/partial-acceptance'

// The pure part of partial acceptance: which refused fields a body can do without, and the plan
// without them (the delivery's handling at the simulator: partial-acceptance.int.test.ts).

const refusal = (fieldErrors: Record<string, string[]>) =>
  new UsercomRejectedError({ endpoint: 'POST /users/update_or_create/', status: 400, fieldErrors })

const plan = (): Plan => ({
  eventType: 'identify',
  messageId: 'm-1',
  customId: 'u-1',
  dropped: [{ field: 'traits.x', reason: 'planned drop' }],
  steps: [
    {
      op: 'upsert_user',
      key: 'user',
      customId: 'u-1',
      body: { custom_id: 'u-1', email: 'a@b.co', tier: 'x' },
    },
    {
      op: 'create_event',
      key: 'event',
      customId: 'u-1',
      body: { name: 'E', data: { a: 1, b: 2 }, timestamp: 1 },
    },
  ],
})

describe('PartialAcceptance', () => {
  it('drops the named fields from that step only, reporting each once, however often it is applied', () => {
    const partial = new PartialAcceptance()
    const [user] = plan().steps
    expect(partial.accept(user!, refusal({ tier: ['Not a valid choice.'] }))).toBe(true)
    const once = partial.apply(plan())
    const again = partial.apply(plan())
    expect(once).toEqual(again)
    expect(once.steps[0]).toMatchObject({ body: { custom_id: 'u-1', email: 'a@b.co' } })
    expect(once.steps[0]).not.toHaveProperty('body.tier')
    expect(once.steps[1]).toEqual(plan().steps[1])
    expect(once.dropped).toEqual([
      { field: 'traits.x', reason: 'planned drop' },
      { field: 'user.tier', reason: 'refused by User.com: Not a valid choice.' },
    ])
  })

  it('once per step', () => {
    const partial = new PartialAcceptance()
    const [user] = plan().steps
    expect(partial.accept(user!, refusal({ tier: ['no'] }))).toBe(true)
    expect(partial.accepts(user!, refusal({ email: ['no'] }))).toBe(false)
  })

  it.each([
    ['no field', {}],
    ['non_field_errors', { non_field_errors: ['bad'] }],
    ['custom_id', { custom_id: ['taken'] }],
    ['a field not in the body', { phone_number: ['bad'] }],
    ['every field but the id', { email: ['bad'], tier: ['bad'] }],
  ])('a user refusal naming %s stands', (_what, fieldErrors) => {
    const [user] = plan().steps
    expect(new PartialAcceptance().accepts(user!, refusal(fieldErrors))).toBe(false)
  })

  it('events: a property, or all of `data`, but never the name', () => {
    const event = plan().steps[1]!
    const partial = new PartialAcceptance()
    expect(partial.accepts(event, refusal({ name: ['no'] }))).toBe(false)
    expect(partial.accepts(event, refusal({ 'data.zzz': ['no'] }))).toBe(false)
    expect(partial.accept(event, refusal({ 'data.a': ['no'] }))).toBe(true)
    const cut = partial.apply(plan())
    expect(cut.steps[1]).toMatchObject({ body: { name: 'E', data: { b: 2 }, timestamp: 1 } })
    expect(cut.dropped.at(-1)).toEqual({ field: 'properties.a', reason: 'refused by User.com: no' })
  })
})
