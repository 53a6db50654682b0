import { SPEC_FIXTURES, normalizeFixture, testEvent } from '@ucd/segment/testing'
import type { SpecFixture, TestEventFields } from '@ucd/segment/testing'
import type { EventType, SegmentEvent } from '@ucd/segment'
import type { AttributeDef, Operation, Plan } from '../index'

/** A normalised event built from a raw one (ids may be numbers, as clients send them), the way the ingest does it. */
export function event(raw: Record<string, unknown>): SegmentEvent {
  return testEvent(raw.type as EventType, raw as TestEventFields<EventType>)
}

export function identify(traits: Record<string, unknown>, extra: Record<string, unknown> = {}): SegmentEvent {
  return event({ type: 'identify', userId: 'u1', traits, ...extra })
}

export function group(traits: Record<string, unknown>, extra: Record<string, unknown> = {}): SegmentEvent {
  return event({ type: 'group', userId: 'u1', groupId: 'g1', traits, ...extra })
}

/** Every normalised event of a segment-spec.md §9 fixture. */
export function fixtureEvents(fixture: SpecFixture): SegmentEvent[] {
  return normalizeFixture(fixture).map(result => {
    if (!result.ok) throw new Error(`${fixture.name}: ${JSON.stringify(result.errors)}`)
    return result.event
  })
}

export function fixture(namePrefix: string): SpecFixture {
  const found = SPEC_FIXTURES.find(f => f.name.startsWith(namePrefix))
  if (found === undefined) throw new Error(`no fixture ${namePrefix}`)
  return found
}

export function step<K extends Operation['op']>(plan: Plan, op: K): Extract<Operation, { op: K }> {
  const found = plan.steps.find(s => s.op === op)
  if (found === undefined) throw new Error(`no ${op} step in ${JSON.stringify(plan.steps)}`)
  return found as Extract<Operation, { op: K }>
}

/** The upsert_user body of an identify plan. */
export function userBody(plan: Plan): Record<string, unknown> {
  return step(plan, 'upsert_user').body
}

/** The upsert_company body of a group plan. */
export function companyBody(plan: Plan): Record<string, unknown> {
  return step(plan, 'upsert_company').body
}

export function ensured(plan: Plan): string[] {
  return plan.steps.flatMap(s => (s.op === 'ensure_attribute' ? [`${s.contentType}:${s.nameStd}`] : []))
}

export function attr(
  nameStd: string,
  valueType: AttributeDef['valueType'],
  contentType: AttributeDef['contentType'] = 'clientuser',
  choices?: string[],
): AttributeDef {
  return { contentType, name: nameStd, nameStd, valueType, ...(choices === undefined ? {} : { choices }) }
}
