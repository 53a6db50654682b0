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
