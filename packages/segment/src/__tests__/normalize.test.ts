import { describe, expect, it } from '@jest/globals'
import { MAX_EVENT_BYTES, SegmentEventSchema, normalizeBatch, normalizeEvent } from '../index'
import type { NormalizeContext } from '../normalize'
import type { NormalizeResult, SegmentEvent } from '../index'
import { SPEC_DELETE_NOTICE, SPEC_FIXTURES, normalizeFixture } from '../testing'

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

describe('the segment-spec.md §9 fixtures', () => {
  it.each(SPEC_FIXTURES.map(f => [f.name, f] as const))('%s normalises without error', (_name, fixture) => {
    const results = normalizeFixture(fixture, ctx)
    expect(results.length).toBeGreaterThan(0)
    for (const result of results) {
      const event = ok(result)
      expect(JSON.stringify(event)).not.toContain('WRITE_KEY')
      expect(JSON.stringify(event)).not.toContain('DmBXIN4JnwqBnTqXccTF0wBnLXNQmFtk')
    }
  })

  it('9.1 batch: unpadded dates parse, batch context lands on every item', () => {
    const fixture = SPEC_FIXTURES.find(f => f.route === 'batch')!
    const events = normalizeFixture(fixture, ctx).map(ok)
    expect(events.map(e => e.timestamp)).toEqual([
      '2012-12-02T00:30:08.276Z',
      '2012-12-02T00:30:12.984Z',
      '2015-02-02T00:30:08.276Z',
      '2015-02-02T00:30:12.984Z',
    ])
    for (const event of events)
      expect(event.context).toEqual({ device: { type: 'phone', name: 'Apple iPhone 6' } })
  })

  it('9.1 track without a type field gets it from the route', () => {
    const fixture = SPEC_FIXTURES.find(f => f.name.includes('no type field'))!
    expect(ok(normalizeFixture(fixture, ctx)[0]!)).toMatchObject({
      type: 'track',
      userId: '123',
      event: 'happy-path-a3ef8a6f-0482-4694-bc4d-4afba03a0eab',
    })
  })

  it('9.3 forwarded page keeps its times and drops _metadata and the null category', () => {
    const fixture = SPEC_FIXTURES.find(f => f.name.startsWith('9.3'))!
    const event = ok(normalizeFixture(fixture, ctx)[0]!)
    expect(event).toMatchObject({
      receivedAt: '2019-06-21T17:36:42.812Z',
      timestamp: '2019-06-21T17:36:42.812Z',
    })
    expect(event).not.toHaveProperty('_metadata')
    expect(event).not.toHaveProperty('category')
  })

  it('9.5 webhook track without messageId gets one', () => {
    const fixture = SPEC_FIXTURES.find(f => f.name.startsWith('9.5'))!
    expect(ok(normalizeFixture(fixture, ctx)[0]!)).toMatchObject({
      messageId: 'generated-id',
      version: 1,
    })
  })

  it('9.3 delete notice: an unknown type for this destination, with its type and messageId readable', () => {
    const result = normalizeEvent(SPEC_DELETE_NOTICE, ctx)
    expect(result).toMatchObject({
      ok: false,
      type: 'delete',
      messageId: 'delete-reg-6543321::job-2-P0OJ3CTID1',
      errors: [{ path: 'type' }],
    })
    // Its Go-format originalTimestamp is handled when the type is one we deliver.
    const asIdentify = ok(normalizeEvent({ ...SPEC_DELETE_NOTICE, type: 'identify' }, ctx))
    expect(asIdentify.originalTimestamp).toBe('2020-05-09T23:54:49.209Z')
  })
})

describe('normalizeEvent: context.ip from the request (segment-spec.md §3)', () => {
  const ipOf = (event: unknown, extra: Partial<NormalizeContext>): unknown =>
    ok(normalizeEvent(event, { ...ctx, ...extra })).context.ip

  it.each<[string, unknown, Partial<NormalizeContext>, unknown]>([
    ['a client route fills it', track, { requestIp: '203.0.113.7', clientPath: true }, '203.0.113.7'],
    [
      'an IPv4-mapped IPv6 address is read as IPv4',
      track,
      { requestIp: '::ffff:203.0.113.7', clientPath: true },
      '203.0.113.7',
    ],
    ['a server route leaves it out', track, { requestIp: '203.0.113.7', clientPath: false }, undefined],
    [
      'a server route fills it when the event says context.direct: true',
      { ...track, context: { direct: true } },
      { requestIp: '203.0.113.7' },
      '203.0.113.7',
    ],
    [
      'an IP the event carries wins',
      { ...track, context: { ip: '198.51.100.1' } },
      { requestIp: '203.0.113.7', clientPath: true },
      '198.51.100.1',
    ],
    ['IPv6 is not collected', track, { requestIp: '2001:db8::1', clientPath: true }, undefined],
    ['no request IP, nothing to fill', track, { clientPath: true }, undefined],
  ])('%s', (_name, event, extra, expected) => {
    expect(ipOf(event, extra)).toBe(expected)
  })

  it('batch items get it too, and a batch-level context.direct counts', () => {
    const result = normalizeBatch(
      { batch: [track, { ...track, context: { ip: '198.51.100.1' } }], context: { direct: true } },
      { ...ctx, requestIp: '203.0.113.7' },
    )
    if (!result.ok) throw new Error('expected ok')
    expect(result.results.map(r => ok(r).context.ip)).toEqual(['203.0.113.7', '198.51.100.1'])
  })
})

describe('normalizeBatch: the 32 KB limit counts the batch-level context and integrations', () => {
  it('rejects items that would be over the limit once the batch context is merged in', () => {
    const context = { pad: 'x'.repeat(MAX_EVENT_BYTES - 40) }
    const result = normalizeBatch({ batch: [track, { ...track, properties: {} }], context }, ctx)
    if (!result.ok) throw new Error('expected ok')
    for (const item of result.results) {
      expect(errors(item)[0]!.message).toMatch(
        /with the batch's context and integrations is \d+ bytes, over the 32768-byte limit/,
      )
    }
  })

  it('accepts items that fit with it, and ignores a batch context that is not an object', () => {
    const small = normalizeBatch({ batch: [track], context: { app: { name: 'x' } } }, ctx)
    const notObject = normalizeBatch({ batch: [track], context: 'x'.repeat(MAX_EVENT_BYTES) }, ctx)
    for (const result of [small, notObject]) {
      if (!result.ok) throw new Error('expected ok')
      ok(result.results[0]!)
    }
  })
})
