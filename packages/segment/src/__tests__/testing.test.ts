import { describe, expect, it } from '@jest/globals'
import { EVENT_TYPES, SegmentEventSchema } from '../index'
import { SPEC_FIXTURES, TEST_RECEIVED_AT, normalizeFixture, testEvent } from '../testing'

describe('testEvent (@ucd/segment/testing)', () => {
  it.each(EVENT_TYPES.map(type => [type]))('builds a valid normalised %s event with defaults', type => {
    const event = testEvent(type)
    expect(SegmentEventSchema.safeParse(event).success).toBe(true)
    expect(event).toMatchObject({
      type,
      userId: 'u1',
      timestamp: TEST_RECEIVED_AT.toISOString(),
      receivedAt: TEST_RECEIVED_AT.toISOString(),
      context: { library: { name: 'analytics-node' } },
      integrations: {},
    })
  })

  it('fills what each type requires', () => {
    expect(testEvent('track').event).toBe('Order Completed')
    expect(testEvent('group').groupId).toBe('g1')
    expect(testEvent('alias').previousId).toBe('previous-u1')
  })

  it('gives every event its own messageId and context', () => {
    const a = testEvent('track')
    const b = testEvent('track')
    expect(a.messageId).not.toBe(b.messageId)
    expect(a.context).not.toBe(b.context)
  })

  it('takes overrides, and no default userId when the test names an identity', () => {
    const event = testEvent('identify', { anonymousId: 'a1', traits: { email: 'a@example.com' } })
    expect(event).not.toHaveProperty('userId')
    expect(event).toMatchObject({ anonymousId: 'a1', traits: { email: 'a@example.com' } })
    expect(testEvent('page', { messageId: 'm-7', name: 'Home' })).toMatchObject({
      messageId: 'm-7',
      name: 'Home',
    })
  })

  it('normalises as the ingest does: clock skew corrected, a given receivedAt kept (forwarded)', () => {
    const skewed = testEvent('track', {
      originalTimestamp: '2024-03-01T11:00:00.000Z',
      sentAt: '2024-03-01T11:00:10.000Z',
    })
    expect(skewed.timestamp).toBe('2024-03-01T11:59:50.000Z')
    const at = '2023-11-28T10:00:00.000Z'
    const forwarded = testEvent('track', { timestamp: at, receivedAt: at })
    expect(forwarded).toMatchObject({ timestamp: at, receivedAt: at })
    expect(forwarded).not.toHaveProperty('originalTimestamp')
    const later = new Date('2025-01-01T00:00:00.000Z')
    expect(testEvent('identify', {}, { receivedAt: later }).receivedAt).toBe(later.toISOString())
  })

  it('throws, naming the problem, when the fields make an invalid event', () => {
    expect(() => testEvent('track', { event: ' ' })).toThrow(/not a valid track event.*event is required/)
  })
})

describe('normalizeFixture', () => {
  it('gives one result per event of a fixture, the batch one several', () => {
    const batch = SPEC_FIXTURES.find(f => f.route === 'batch')!
    expect(normalizeFixture(batch).length).toBeGreaterThan(1)
    const identify = SPEC_FIXTURES.find(f => f.route === 'identify')!
    const [result] = normalizeFixture(identify)
    expect(result).toMatchObject({
      ok: true,
      event: { type: 'identify', receivedAt: TEST_RECEIVED_AT.toISOString() },
    })
  })
})
