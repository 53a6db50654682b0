import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { SegmentEventSchema, normalizeBatch, normalizeEvent } from '../index'

// Whatever a client sends, normalisation answers (never throws), and what it accepts is a valid
// normalised event without the write key.

const key = fc.constantFrom(
  'type',
  'userId',
  'anonymousId',
  'messageId',
  'event',
  'groupId',
  'previousId',
  'traits',
  'properties',
  'context',
  'integrations',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'receivedAt',
  'name',
  'category',
  'channel',
  'version',
  'projectId',
  'writeKey',
  '_metadata',
)
const date = fc.oneof(
  fc.date({ noInvalidDate: true }).map(d => d.toISOString()),
  fc.constantFrom(
    '2015-2-02T00:30:08.276Z',
    '2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264',
    'x',
    '',
  ),
  fc.double(),
  fc.constant(null),
)
const field = fc.oneof(
  fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias', 'delete', 'Track', ''),
  fc.string({ maxLength: 120 }),
  fc.integer(),
  date,
  fc.jsonValue({ maxDepth: 3 }),
)
const id = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.integer())
const bag = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 })
/** A mostly valid event, with a few fields overwritten by anything. */
const rawEvent = fc
  .tuple(
    fc.record(
      {
        type: fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias'),
        userId: id,
        anonymousId: id,
        messageId: fc.string({ minLength: 1, maxLength: 100 }),
        event: fc.string({ minLength: 1 }),
        groupId: id,
        previousId: id,
        traits: bag,
        properties: bag,
        context: bag,
        integrations: bag,
        timestamp: date,
        sentAt: date,
      },
      { requiredKeys: ['type', 'event', 'groupId', 'previousId'] },
    ),
    fc.dictionary(key, field, { maxKeys: 3 }),
  )
  .map(([base, noise]) => ({ ...base, ...noise, writeKey: 'SECRET-WRITE-KEY' }))

describe('normalizeEvent / normalizeBatch for any input (fast-check)', () => {
  it('never throw; accepted events pass SegmentEventSchema and carry no write key', () => {
    fc.assert(
      fc.property(
        rawEvent,
        fc.option(fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias' as const), {
          nil: undefined,
        }),
        fc.record({ context: field, integrations: field, sentAt: date }, { requiredKeys: [] }),
        (raw, routeType, batch) => {
          const ctx = {
            receivedAt: new Date('2024-01-01T00:00:00Z'),
            batch,
            ...(routeType ? { routeType } : {}),
          }
          const result = normalizeEvent(raw, ctx)
          if (result.ok) {
            expect(SegmentEventSchema.safeParse(result.event).success).toBe(true)
            expect(JSON.stringify(result.event)).not.toContain('SECRET-WRITE-KEY')
          } else {
            expect(result.errors.length).toBeGreaterThan(0)
          }
          const batchResult = normalizeBatch({ batch: [raw, raw], ...batch }, ctx)
          expect(batchResult.ok && batchResult.results.length).toBe(2)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('never throw on any JSON body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), body => {
        expect(typeof normalizeEvent(body, { receivedAt: new Date() }).ok).toBe('boolean')
        expect(typeof normalizeBatch(body, { receivedAt: new Date() }).ok).toBe('boolean')
      }),
    )
  })
})
