import { describe, expect, it } from '@jest/globals'
import { SegmentEventSchema, normalizeEvent } from '../index'
import type { NormalizeContext } from '../normalize'
import type { NormalizeResult, SegmentEvent } from '../index'

const receivedAt = new Date('2024-01-02T03:04:05.678Z')
const ctx: NormalizeContext = { receivedAt, newMessageId: () => 'generated-id' }

function ok(result: NormalizeResult): SegmentEvent {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`)
  expect(SegmentEventSchema.safeParse(result.event).success).toBe(true)
  return result.event
}

const track = { type: 'track', userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } }

describe('normalizeEvent: time', () => {
  it('sets receivedAt to when the ingest received it', () => {
    expect(ok(normalizeEvent(track, ctx)).receivedAt).toBe(receivedAt.toISOString())
  })

  it('corrects clock skew: timestamp = receivedAt - (sentAt - originalTimestamp) (segment-spec §9.2 check)', () => {
    const raw = {
      ...track,
      originalTimestamp: '2015-12-12T19:11:01.152Z',
      sentAt: '2015-12-12T19:11:01.169Z',
    }
    const event = ok(normalizeEvent(raw, { ...ctx, receivedAt: new Date('2015-12-12T19:11:01.266Z') }))
    expect(event).toMatchObject({
      timestamp: '2015-12-12T19:11:01.249Z',
      originalTimestamp: '2015-12-12T19:11:01.152Z',
      sentAt: '2015-12-12T19:11:01.169Z',
      receivedAt: '2015-12-12T19:11:01.266Z',
    })
  })

  it('treats a client timestamp as the original timestamp (server libraries)', () => {
    const raw = { ...track, timestamp: '2024-01-02T03:00:00.000Z', sentAt: '2024-01-02T03:04:00.000Z' }
    // Sent 4 min after it happened (by the client clock): it happened 4 min before receipt.
    expect(ok(normalizeEvent(raw, ctx))).toMatchObject({
      originalTimestamp: '2024-01-02T03:00:00.000Z',
      timestamp: '2024-01-02T03:00:05.678Z',
    })
  })

  it('prefers originalTimestamp over timestamp', () => {
    const raw = {
      ...track,
      originalTimestamp: '2024-01-01T00:00:00.000Z',
      timestamp: '2023-01-01T00:00:00.000Z',
    }
    expect(ok(normalizeEvent(raw, ctx)).timestamp).toBe('2024-01-01T00:00:00.000Z')
  })

  it('uses the batch-level sentAt when the item has none', () => {
    const raw = { ...track, timestamp: '2024-01-02T03:04:00.000Z' }
    const event = ok(normalizeEvent(raw, { ...ctx, batch: { sentAt: '2024-01-02T03:04:01.000Z' } }))
    expect(event).toMatchObject({ timestamp: '2024-01-02T03:04:04.678Z', sentAt: '2024-01-02T03:04:01.000Z' })
  })

  it('keeps the client timestamp when there is no sentAt', () => {
    const raw = { ...track, timestamp: '2012-12-02T00:30:08.276Z' }
    expect(ok(normalizeEvent(raw, ctx)).timestamp).toBe('2012-12-02T00:30:08.276Z')
  })

  it('uses receivedAt when there is no client time at all', () => {
    const event = ok(normalizeEvent({ ...track, sentAt: '2020-01-01T00:00:00Z' }, ctx))
    expect(event.timestamp).toBe(receivedAt.toISOString())
    expect(event).not.toHaveProperty('originalTimestamp')
  })

  it.each([
    ['unpadded month', '2015-2-02T00:30:08.276Z', '2015-02-02T00:30:08.276Z'],
    ['nanoseconds', '2024-05-03T19:42:50.066179717Z', '2024-05-03T19:42:50.066Z'],
    ['Go format', '2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264', '2020-05-09T23:54:49.209Z'],
    ['garbage falls back to receivedAt', 'not a date', '2030-01-01T00:00:00.000Z'],
    ['null falls back to receivedAt', null, '2030-01-01T00:00:00.000Z'],
  ])('parses odd client dates leniently: %s', (_name, timestamp, expected) => {
    // Received after all of them (an earlier receipt would clamp them, see below).
    const later = { ...ctx, receivedAt: new Date('2030-01-01T00:00:00.000Z') }
    expect(ok(normalizeEvent({ ...track, timestamp, sentAt: null }, later)).timestamp).toBe(expected)
  })

  it('keeps receivedAt and timestamp of a forwarded event (it already has a receivedAt)', () => {
    const raw = {
      ...track,
      receivedAt: '2019-06-21T17:36:42.812Z',
      sentAt: '2019-06-21T17:36:42.787Z',
      originalTimestamp: '2019-06-21T17:36:42.700Z',
      timestamp: '2019-06-21T17:36:42.812Z',
    }
    expect(ok(normalizeEvent(raw, ctx))).toMatchObject({
      receivedAt: '2019-06-21T17:36:42.812Z',
      timestamp: '2019-06-21T17:36:42.812Z',
      originalTimestamp: '2019-06-21T17:36:42.700Z',
    })
  })

  it('computes the timestamp of a forwarded event that has none', () => {
    const raw = {
      ...track,
      receivedAt: '2019-06-21T17:36:42.812Z',
      sentAt: '2019-06-21T17:36:42.800Z',
      originalTimestamp: '2019-06-21T17:36:42.700Z',
    }
    expect(ok(normalizeEvent(raw, ctx)).timestamp).toBe('2019-06-21T17:36:42.712Z')
  })

  it('clamps a timestamp in the future to receivedAt (spoofed client clocks, segment-spec §2.3; User.com refuses times after 2100)', () => {
    const event = ok(normalizeEvent({ ...track, timestamp: '2150-01-01T00:00:00Z' }, ctx))
    expect(event).toMatchObject({
      timestamp: receivedAt.toISOString(),
      originalTimestamp: '2150-01-01T00:00:00.000Z',
      receivedAt: receivedAt.toISOString(),
    })
  })

  it('clamps after the skew correction: an event the client says happened after it was sent', () => {
    const raw = { ...track, timestamp: '2024-01-02T03:10:00.000Z', sentAt: '2024-01-02T03:04:00.000Z' }
    expect(ok(normalizeEvent(raw, ctx)).timestamp).toBe(receivedAt.toISOString())
  })

  it('a timestamp one millisecond before receipt is kept', () => {
    const raw = { ...track, timestamp: '2024-01-02T03:04:05.677Z' }
    expect(ok(normalizeEvent(raw, ctx)).timestamp).toBe('2024-01-02T03:04:05.677Z')
  })

  it("clamps a forwarded event to its receivedAt, and to this ingest's receipt when that is earlier", () => {
    const forwarded = { ...track, receivedAt: '2019-06-21T17:36:42.812Z', timestamp: '2150-01-01T00:00:00Z' }
    expect(ok(normalizeEvent(forwarded, ctx)).timestamp).toBe('2019-06-21T17:36:42.812Z')
    const fromTheFuture = { ...track, receivedAt: '2150-01-01T00:00:00Z', timestamp: '2150-01-01T00:00:00Z' }
    expect(ok(normalizeEvent(fromTheFuture, ctx)).timestamp).toBe(receivedAt.toISOString())
  })

  it('never produces a date outside 0000..9999, even from absurd skew', () => {
    const raw = { ...track, timestamp: '0001-01-01T00:00:00Z', sentAt: '9999-12-31T00:00:00Z' }
    expect(ok(normalizeEvent(raw, ctx)).timestamp).toBe('0000-01-01T00:00:00.000Z')
  })
})
