import { SPEC_FIXTURES, normalizeBatch, normalizeEvent } from '@ucd/segment'
import type { EventType, SegmentEvent, SpecFixture } from '@ucd/segment'
import type { AttributeDef, Operation, Plan } from '../index'

export const RECEIVED_AT = new Date('2024-03-01T12:00:00.000Z')

let counter = 0

/** A normalised event built from a raw one, the way the ingest does it. */
export function event(raw: Record<string, unknown>): SegmentEvent {
  const result = normalizeEvent({ messageId: `m-${++counter}`, ...raw }, { receivedAt: RECEIVED_AT })
  if (!result.ok) throw new Error(`not a valid event: ${JSON.stringify(result.errors)}`)
  return result.event
}

export function identify(traits: Record<string, unknown>, extra: Record<string, unknown> = {}): SegmentEvent {
  return event({ type: 'identify', userId: 'u1', traits, ...extra })
}

export function group(traits: Record<string, unknown>, extra: Record<string, unknown> = {}): SegmentEvent {
  return event({ type: 'group', userId: 'u1', groupId: 'g1', traits, ...extra })
}

/** Every normalised event of a segment-spec.md §9 fixture. */
export function fixtureEvents(fixture: SpecFixture): SegmentEvent[] {
  const ctx = { receivedAt: RECEIVED_AT, newMessageId: () => `fixture-${++counter}` }
  const results =
    fixture.route === 'batch'
      ? (() => {
          const batch = normalizeBatch(fixture.body, ctx)
          if (!batch.ok) throw new Error(JSON.stringify(batch.errors))
          return batch.results
        })()
      : [
          normalizeEvent(
            fixture.body,
            fixture.route === 'event' ? ctx : { ...ctx, routeType: fixture.route satisfies EventType },
          ),
        ]
  return results.map(result => {
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
