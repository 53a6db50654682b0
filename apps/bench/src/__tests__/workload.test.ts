import { describe, expect, it } from '@jest/globals'
import { normalizeBatch } from '@ucd/segment'
import { BodyFactory, EVENT_BYTES, messageIdOf, trackEvent } from '../workload'

describe('the benchmark events', () => {
  it('are tracks of exactly 1 KB of JSON', () => {
    for (const user of [0, 7, 12345]) {
      const event = trackEvent(user, messageIdOf('tag', user), '2026-01-01T00:00:00.000Z')
      expect(Buffer.byteLength(JSON.stringify(event))).toBe(EVENT_BYTES)
    }
  })

  it('come in batches of 100 with fresh messageIds, users in turn, that the ingest accepts', () => {
    const bodies = new BodyFactory('b1', 3, '2026-01-01T00:00:00.000Z')
    const first = JSON.parse(bodies.batch()) as { batch: Array<{ messageId: string; userId: string }> }
    const second = JSON.parse(bodies.batch()) as { batch: Array<{ messageId: string }> }
    expect(first.batch).toHaveLength(100)
    const ids = new Set([...first.batch, ...second.batch].map(e => e.messageId))
    expect(ids.size).toBe(200)
    expect(first.batch.slice(0, 4).map(e => e.userId)).toEqual([
      'bench-user-00000',
      'bench-user-00001',
      'bench-user-00002',
      'bench-user-00000',
    ])
    const normalized = normalizeBatch(first, { receivedAt: new Date('2026-01-01T00:00:01.000Z') })
    expect(normalized.ok && normalized.results.every(r => r.ok)).toBe(true)
    expect(bodies.count).toBe(200)
  })

  it('single() is one event body', () => {
    const bodies = new BodyFactory('t', 2, '2026-01-01T00:00:00.000Z')
    const event = JSON.parse(bodies.single()) as { type: string; messageId: string }
    expect(event.type).toBe('track')
    expect(event.messageId).toBe(messageIdOf('t', 0))
    expect(messageIdOf('t', 0)).toHaveLength(24)
  })

  it('recipe() makes the same bodies in another factory, and only for a factory that has made none', () => {
    const bodies = new BodyFactory('r', 3, '2026-01-01T00:00:00.000Z', 5)
    const recipe = bodies.recipe
    expect(recipe).toEqual({ tag: 'r', users: 3, timestamp: '2026-01-01T00:00:00.000Z', eventsPerBatch: 5 })
    const twin = new BodyFactory(recipe.tag, recipe.users, recipe.timestamp, recipe.eventsPerBatch)
    expect(twin.batch()).toBe(bodies.batch())
    // Its recipe would start the sequence again: the same messageIds twice.
    expect(() => bodies.recipe).toThrow(/has made bodies/)
  })
})
