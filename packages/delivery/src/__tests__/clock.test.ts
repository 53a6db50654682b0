import { describe, expect, it } from '@jest/globals'
import {
  compareClocks,
  dropStale,
  eventClock,
  formatClock,
  isStale,
  parseClock,
  STALE_REASON,
} from '../consistency/clock'

const at = (iso: string, messageId: string) => eventClock({ timestamp: iso, receivedAt: iso, messageId })

describe('field clocks', () => {
  it('a clock is the event time in ms and the messageId, and reads back the same', () => {
    const clock = at('2026-11-28T10:00:00.250Z', 'm:1')
    expect(formatClock(clock)).toBe(`${Date.parse('2026-11-28T10:00:00.250Z')}:m:1`)
    expect(parseClock(formatClock(clock))).toEqual(clock)
    expect(parseClock('garbage')).toBeUndefined()
    expect(parseClock(':x')).toBeUndefined()
    expect(parseClock('12x:x')).toBeUndefined()
  })

  it('an unparsable timestamp falls back to receivedAt', () => {
    expect(eventClock({ timestamp: 'nope', receivedAt: '2026-01-01T00:00:00.000Z', messageId: 'a' })).toEqual(
      {
        timeMs: Date.parse('2026-01-01T00:00:00.000Z'),
        messageId: 'a',
      },
    )
  })

  it('orders by time first, then by messageId byte order', () => {
    const early = at('2026-11-28T10:00:00.000Z', 'zzz')
    const late = at('2026-11-28T10:00:00.001Z', 'aaa')
    expect(compareClocks(early, late)).toBe(-1)
    expect(compareClocks(late, early)).toBe(1)
    expect(compareClocks(at('2026-11-28T10:00:00.000Z', 'b'), at('2026-11-28T10:00:00.000Z', 'a'))).toBe(1)
    expect(compareClocks(at('2026-11-28T10:00:00.000Z', 'a'), at('2026-11-28T10:00:00.000Z', 'ab'))).toBe(-1)
    // Byte order, not locale order: "Z" (0x5a) sorts before "a" (0x61).
    expect(compareClocks(at('2026-11-28T10:00:00.000Z', 'Z'), at('2026-11-28T10:00:00.000Z', 'a'))).toBe(-1)
    expect(compareClocks(early, { ...early })).toBe(0)
  })

  it('a value is stale only when the stored clock is strictly newer', () => {
    const incoming = at('2026-11-28T10:00:00.000Z', 'm2')
    expect(isStale(incoming, undefined)).toBe(false)
    expect(isStale(incoming, formatClock(incoming))).toBe(false)
    expect(isStale(incoming, formatClock(at('2026-11-28T09:59:59.999Z', 'm9')))).toBe(false)
    expect(isStale(incoming, formatClock(at('2026-11-28T10:00:00.000Z', 'm3')))).toBe(true)
    expect(isStale(incoming, formatClock(at('2026-11-28T10:00:00.000Z', 'm1')))).toBe(false)
    expect(isStale(incoming, 'unreadable')).toBe(false)
  })

  it('dropStale takes the stale fields out of a body and reports them', () => {
    const result = dropStale(
      { custom_id: 'u1', email: 'a@x.io', plan: 'pro', score: 3 },
      new Set(['email']),
      'user',
    )
    expect(result.body).toEqual({ custom_id: 'u1', plan: 'pro', score: 3 })
    expect(result.stale).toEqual([{ field: 'user.email', reason: STALE_REASON }])
  })
})
