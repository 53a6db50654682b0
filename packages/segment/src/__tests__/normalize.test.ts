import { describe, expect, it } from '@jest/globals'
import { MAX_EVENT_BYTES, SegmentEventSchema, normalizeBatch, normalizeEvent } from '../index'
import type { NormalizeContext } from '../normalize'
import type { NormalizeResult, SegmentEvent } from '../index'

const receivedAt = new Date('2024-01-02T03:04:05.678Z')
const ctx: NormalizeContext = { receivedAt, newMessageId: () => 'generated-id' }

function ok(result: NormalizeResult): SegmentEvent {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`)
  expect(SegmentEventSchema.safeParse(result.event).success).toBe(true)
  return result.event
}

function errors(result: NormalizeResult): { path: string; message: string }[] {
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.event)}`)
  return result.errors
}

const track = { type: 'track', userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } }

describe('normalizeEvent: type', () => {
  it('takes the type from the route, overriding the body', () => {
    const event = ok(normalizeEvent({ ...track, type: 'identify' }, { ...ctx, routeType: 'track' }))
    expect(event.type).toBe('track')
  })

  it('takes the type from the body on batch items, in any case', () => {
    expect(ok(normalizeEvent({ ...track, type: 'Track' }, ctx)).type).toBe('track')
  })

  it.each([
    ['missing', undefined, 'type is required'],
    ['unknown', 'delete', 'unknown type "delete"'],
    ['not a string', 7, 'type is required'],
  ])('rejects a %s type', (_name, type, message) => {
    const result = normalizeEvent({ ...track, type }, ctx)
    expect(errors(result)[0]).toMatchObject({ path: 'type' })
    expect(errors(result)[0]?.message).toContain(message)
  })
})

describe('normalizeEvent: messageId', () => {
  it('keeps the client messageId', () => {
    expect(ok(normalizeEvent({ ...track, messageId: 'ajs-1' }, ctx)).messageId).toBe('ajs-1')
  })

  it.each([
    ['missing', undefined],
    ['null', null],
    ['blank', '   '],
  ])('fills it in when %s', (_name, messageId) => {
    expect(ok(normalizeEvent({ ...track, messageId }, ctx)).messageId).toBe('generated-id')
  })

  it('fills it in with a UUID by default', () => {
    const event = ok(normalizeEvent(track, { receivedAt }))
    expect(event.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('accepts exactly 100 characters and rejects 101, keeping it readable for the response', () => {
    expect(ok(normalizeEvent({ ...track, messageId: 'm'.repeat(100) }, ctx)).messageId).toHaveLength(100)
    const result = normalizeEvent({ ...track, messageId: 'm'.repeat(101) }, ctx)
    expect(errors(result)).toEqual([
      { path: 'messageId', message: 'messageId must be at most 100 characters' },
    ])
    expect(result).toMatchObject({ type: 'track', messageId: 'm'.repeat(101) })
  })

  it('turns a numeric messageId into a string and rejects an object', () => {
    expect(ok(normalizeEvent({ ...track, messageId: 42 }, ctx)).messageId).toBe('42')
    expect(errors(normalizeEvent({ ...track, messageId: { id: 1 } }, ctx))[0]?.path).toBe('messageId')
  })
})

describe('normalizeEvent: identity', () => {
  it.each<[string, Record<string, unknown>, { userId?: string; anonymousId?: string }]>([
    ['string userId', { userId: 'u1' }, { userId: 'u1' }],
    ['numeric userId', { userId: 12345 }, { userId: '12345' }],
    ['numeric anonymousId', { anonymousId: 7 }, { anonymousId: '7' }],
    ['zero is an id', { userId: 0 }, { userId: '0' }],
    ['blank userId falls back to anonymousId', { userId: '  ', anonymousId: 'a1' }, { anonymousId: 'a1' }],
    ['null userId with anonymousId', { userId: null, anonymousId: 'a1' }, { anonymousId: 'a1' }],
    ['both kept', { userId: 'u1', anonymousId: 'a1' }, { userId: 'u1', anonymousId: 'a1' }],
  ])('%s', (_name, ids, expected) => {
    const { userId: _u, ...rest } = track
    const event = ok(normalizeEvent({ ...rest, ...ids }, ctx))
    expect({ userId: event.userId, anonymousId: event.anonymousId }).toEqual({
      userId: expected.userId,
      anonymousId: expected.anonymousId,
    })
  })

  it.each([
    ['no ids', {}],
    ['blank ids', { userId: '', anonymousId: ' ' }],
    ['null ids', { userId: null, anonymousId: null }],
  ])('requires userId or anonymousId (%s)', (_name, ids) => {
    const { userId: _u, ...rest } = track
    expect(errors(normalizeEvent({ ...rest, ...ids }, ctx))).toEqual([
      { path: 'userId', message: 'userId or anonymousId is required' },
    ])
  })

  it('rejects an id that is neither a string nor a number', () => {
    expect(errors(normalizeEvent({ ...track, userId: { id: 1 } }, ctx))).toEqual([
      { path: 'userId', message: 'userId must be a string or a number' },
    ])
  })
})

describe('normalizeEvent: per-type rules', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['track without event', { type: 'track', userId: 'u1' }, 'event'],
    ['track with a blank event', { type: 'track', userId: 'u1', event: ' ' }, 'event'],
    ['group without groupId', { type: 'group', userId: 'u1', traits: {} }, 'groupId'],
    ['group with a blank groupId', { type: 'group', userId: 'u1', groupId: '' }, 'groupId'],
    ['alias without previousId', { type: 'alias', userId: 'u1' }, 'previousId'],
    ['identify with traits as an array', { type: 'identify', userId: 'u1', traits: [1] }, 'traits'],
    ['track with properties as a string', { ...track, properties: 'x' }, 'properties'],
    ['context as a number', { ...track, context: 5 }, 'context'],
  ])('%s is an error at that path', (_name, raw, path) => {
    expect(errors(normalizeEvent(raw, ctx)).map(e => e.path)).toEqual([path])
  })

  it('reports every problem of an event at once', () => {
    const paths = errors(normalizeEvent({ type: 'group', traits: 'x' }, ctx)).map(e => e.path)
    expect(paths.sort()).toEqual(['groupId', 'traits', 'userId'])
  })

  it('turns a numeric groupId and previousId into strings', () => {
    expect(ok(normalizeEvent({ type: 'group', userId: 'u1', groupId: 99 }, ctx))).toMatchObject({
      groupId: '99',
    })
    expect(ok(normalizeEvent({ type: 'alias', userId: 'u1', previousId: 5 }, ctx))).toMatchObject({
      previousId: '5',
    })
  })

  it.each([
    ['identify', 'traits'],
    ['group', 'traits'],
    ['track', 'properties'],
    ['page', 'properties'],
    ['screen', 'properties'],
  ])('%s: null or missing %s, context and integrations become {}', (type, field) => {
    const raw = {
      type,
      userId: 'u1',
      event: 'E',
      groupId: 'g1',
      [field]: null,
      context: null,
      integrations: null,
    }
    const event = ok(normalizeEvent(raw, ctx)) as Record<string, unknown>
    expect(event[field]).toEqual({})
    expect(event.context).toEqual({})
    expect(event.integrations).toEqual({})
  })

  it('keeps page name and category, dropping a null category', () => {
    const page = ok(normalizeEvent({ type: 'page', userId: 'u1', name: 'Home', category: null }, ctx))
    expect(page).toMatchObject({ name: 'Home' })
    expect(page).not.toHaveProperty('category')
  })
})

describe('normalizeEvent: size', () => {
  it(`rejects an event over ${MAX_EVENT_BYTES} bytes (JSON, UTF-8) and accepts one at the limit`, () => {
    const base = JSON.stringify({ ...track, properties: { pad: '' } })
    const fits = { ...track, properties: { pad: 'x'.repeat(MAX_EVENT_BYTES - Buffer.byteLength(base)) } }
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(MAX_EVENT_BYTES)
    ok(normalizeEvent(fits, ctx))
    const over = { ...track, properties: { pad: `${fits.properties.pad}x` } }
    const result = normalizeEvent(over, ctx)
    expect(errors(result)).toHaveLength(1)
    expect(errors(result)[0]?.message).toContain('32768-byte limit')
    expect(result).toMatchObject({ type: 'track' })
  })

  it('counts bytes, not characters', () => {
    const base = JSON.stringify({ ...track, properties: { pad: '' } })
    const chars = Math.ceil((MAX_EVENT_BYTES - Buffer.byteLength(base)) / 2) + 1
    const raw = { ...track, properties: { pad: 'é'.repeat(chars) } }
    expect(JSON.stringify(raw).length).toBeLessThan(MAX_EVENT_BYTES)
    expect(errors(normalizeEvent(raw, ctx))[0]?.message).toContain('byte limit')
  })
})

describe('normalizeEvent: what does not survive', () => {
  it('drops writeKey, _metadata and unknown top-level fields', () => {
    const raw = {
      ...track,
      writeKey: 'SECRET_WRITE_KEY',
      _metadata: { bundled: ['Segment.io'] },
      email: 'test@example.org',
      password: 'hunter2',
    }
    const event = ok(normalizeEvent(raw, ctx))
    expect(JSON.stringify(event)).not.toContain('SECRET_WRITE_KEY')
    expect(JSON.stringify(event)).not.toContain('hunter2')
    expect(Object.keys(event).sort()).toEqual(
      [
        'context',
        'event',
        'integrations',
        'messageId',
        'properties',
        'receivedAt',
        'timestamp',
        'type',
        'userId',
      ].sort(),
    )
  })

  it('keeps channel, version (number or string) and projectId', () => {
    const raw = { ...track, channel: 'server', version: 2, projectId: 'P0OJ3CTID1' }
    expect(ok(normalizeEvent(raw, ctx))).toMatchObject({
      channel: 'server',
      version: 2,
      projectId: 'P0OJ3CTID1',
    })
    expect(ok(normalizeEvent({ ...track, version: '1.1' }, ctx)).version).toBe('1.1')
  })
})

describe('normalizeEvent: batch-level context and integrations', () => {
  it('merges them into the item, item keys winning', () => {
    const raw = { ...track, context: { ip: '1.2.3.4', locale: 'pl-PL' }, integrations: { Mixpanel: true } }
    const event = ok(
      normalizeEvent(raw, {
        ...ctx,
        batch: {
          context: { ip: '9.9.9.9', library: { name: 'analytics-go' } },
          integrations: { All: false, Mixpanel: false },
        },
      }),
    )
    expect(event.context).toEqual({ ip: '1.2.3.4', locale: 'pl-PL', library: { name: 'analytics-go' } })
    expect(event.integrations).toEqual({ All: false, Mixpanel: true })
  })

  it('ignores batch-level values that are not objects', () => {
    const event = ok(normalizeEvent(track, { ...ctx, batch: { context: 'x', integrations: [1] } }))
    expect(event.context).toEqual({})
    expect(event.integrations).toEqual({})
  })
})

describe('normalizeEvent: input that is not an event', () => {
  it.each([
    ['null', null],
    ['an array', [track]],
    ['a string', 'track'],
  ])('%s is an error', (_name, raw) => {
    expect(errors(normalizeEvent(raw, ctx))).toEqual([{ path: '', message: 'event must be a JSON object' }])
  })
})

describe('normalizeBatch', () => {
  it.each([
    ['not an object', [], ''],
    ['null', null, ''],
    ['batch missing', { writeKey: 'k' }, 'batch'],
    ['batch not an array', { batch: { type: 'track' } }, 'batch'],
  ])('rejects the whole request when %s', (_name, body, path) => {
    const result = normalizeBatch(body, { receivedAt })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.errors[0]?.path).toBe(path)
  })

  it('accepts an empty batch with no results', () => {
    expect(normalizeBatch({ batch: [] }, { receivedAt })).toEqual({ ok: true, results: [] })
  })

  it('normalises each item in order, bad items failing alone, with batch sentAt and context', () => {
    let n = 0
    const result = normalizeBatch(
      {
        batch: [
          { ...track, timestamp: '2024-01-02T03:04:00.000Z' },
          { type: 'track', userId: 'u2' },
          { type: 'identify', anonymousId: 'a1', traits: { email: 'x@example.com' } },
        ],
        sentAt: '2024-01-02T03:04:05.000Z',
        context: { library: { name: 'analytics-node' } },
        writeKey: 'SECRET',
      },
      { receivedAt, newMessageId: () => `id-${++n}` },
    )
    if (!result.ok) throw new Error('expected ok')
    expect(result.results.map(r => r.ok)).toEqual([true, false, true])
    const [first, second, third] = result.results
    expect(first?.ok && first.event).toMatchObject({
      messageId: 'id-1',
      timestamp: '2024-01-02T03:04:00.678Z',
      context: { library: { name: 'analytics-node' } },
    })
    expect(second).toMatchObject({ ok: false, type: 'track', errors: [{ path: 'event' }] })
    expect(third?.ok && third.event).toMatchObject({ type: 'identify', messageId: 'id-2' })
    expect(JSON.stringify(result)).not.toContain('SECRET')
  })
})
