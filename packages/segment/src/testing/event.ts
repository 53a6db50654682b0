import { randomBytes } from 'node:crypto'
import { normalizeBatch, normalizeEvent } from '../normalize'
import type { NormalizeContext, NormalizeResult } from '../normalize'
import type { EventType, SegmentEvent } from '../schema'
import type { SpecFixture } from './fixtures'

/** The normalised event of one type: `EventOf<'track'>` is a TrackEvent. */
export type EventOf<T extends EventType> = Extract<SegmentEvent, { type: T }>

/** Fields a test may set on an event of type `T` (all optional; `type` is the first argument). */
export type TestEventFields<T extends EventType> = T extends EventType
  ? Partial<Omit<EventOf<T>, 'type'>>
  : never

/** When a test event is received unless the test says otherwise (a `receivedAt` field, or the option). */
export const TEST_RECEIVED_AT = new Date('2024-03-01T12:00:00.000Z')

/** What a server library sends as context (analytics-node), so a test event looks like a real one. */
const testContext = () => ({ library: { name: 'analytics-node', version: '3.1.0' } })

/** The fields each type requires, when the test does not set them. */
const REQUIRED: { [T in EventType]: TestEventFields<T> } = {
  identify: {},
  track: { event: 'Order Completed' },
  page: {},
  screen: {},
  group: { groupId: 'g1' },
  alias: { previousId: 'previous-u1' },
}

/** Unique across the processes of a test run: events of parallel test files never share a messageId. */
const RUN = randomBytes(4).toString('hex')
let counter = 0

/**
 * A normalised event of `type`, built as the ingest builds one: the fields go through `normalizeEvent`
 * (received at TEST_RECEIVED_AT, or `options.receivedAt`), so the result is exactly what the ingest
 * would enqueue and always passes `SegmentEventSchema`. Throws when the fields make an invalid event.
 *
 * Defaults: a unique `messageId`, `userId: 'u1'` when neither id is set, the context of a server
 * library, and the fields the type requires (track `event: 'Order Completed'`, group `groupId: 'g1'`,
 * alias `previousId: 'previous-u1'`). Times follow the ingest's rules: without any, `timestamp` is the
 * receive time; a `receivedAt` field marks the event as forwarded, keeping its `receivedAt` and
 * `timestamp` as given.
 */
export function testEvent<T extends EventType>(
  type: T,
  fields: TestEventFields<T> = {} as TestEventFields<T>,
  options: { receivedAt?: Date } = {},
): EventOf<T> {
  const identity = 'userId' in fields || 'anonymousId' in fields ? {} : { userId: 'u1' }
  const raw = {
    messageId: `test-${RUN}-${++counter}`,
    ...identity,
    context: testContext(),
    ...REQUIRED[type],
    ...fields,
    type,
  }
  const result = normalizeEvent(raw, { receivedAt: options.receivedAt ?? TEST_RECEIVED_AT })
  if (!result.ok) throw new Error(`not a valid ${type} event: ${JSON.stringify(result.errors)}`)
  return result.event as EventOf<T>
}

/**
 * Normalises a segment-spec.md §9 fixture as the ingest would on its route: one result per event (a
 * batch has several). Throws when a batch body as a whole is unusable (no §9 fixture is).
 */
export function normalizeFixture(
  fixture: SpecFixture,
  ctx: Omit<NormalizeContext, 'routeType' | 'batch'> = { receivedAt: TEST_RECEIVED_AT },
): NormalizeResult[] {
  if (fixture.route === 'batch') {
    const batch = normalizeBatch(fixture.body, ctx)
    if (!batch.ok) throw new Error(`${fixture.name}: ${JSON.stringify(batch.errors)}`)
    return batch.results
  }
  return [
    normalizeEvent(fixture.body, fixture.route === 'event' ? ctx : { ...ctx, routeType: fixture.route }),
  ]
}
