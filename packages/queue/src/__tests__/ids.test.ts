import { describe, expect, it } from '@jest/globals'
import { dedupeKey, eventJobId, eventKeys } from '../index'

describe('eventJobId', () => {
  it('is deterministic per tenant and messageId, and a valid BullMQ id', () => {
    const id = eventJobId('acme', 'delete-reg-6543321::job-2-P0OJ3CTID1')
    expect(id).toBe(eventJobId('acme', 'delete-reg-6543321::job-2-P0OJ3CTID1'))
    expect(id).not.toContain(':')
    expect(id).not.toMatch(/^\d+$/)
    expect(id).toMatch(/^acme-[A-Za-z0-9_-]{22}$/)
    expect(eventJobId('globex', 'delete-reg-6543321::job-2-P0OJ3CTID1')).not.toBe(id)
    expect(eventJobId('acme', 'other')).not.toBe(id)
    expect(eventJobId('acme', 'x'.repeat(100)).length).toBe('acme-'.length + 22)
  })

  it('keeps the ids of well-formed messageIds across versions (queued jobs and markers stay valid)', () => {
    expect(eventJobId('acme', 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96')).toBe('acme-qLcnoVncRzUV2ye3ZIB1Qw')
  })

  it('tells apart messageIds that differ only in lone surrogates (UTF-8 would make both U+FFFD)', () => {
    expect(eventJobId('acme', '\ud800-order-1')).not.toBe(eventJobId('acme', '\udbff-order-1'))
    expect(eventJobId('acme', '\ud800-order-1')).not.toBe(eventJobId('acme', '\ufffd-order-1'))
    // A well-formed pair (an emoji) is not a lone surrogate: hashed as UTF-8 like any other text.
    expect(eventJobId('acme', 'order-\u{1F600}')).toMatch(/^acme-[A-Za-z0-9_-]{22}$/)
  })
})

describe('dedupeKey', () => {
  it('is short, under the prefix, and per tenant', () => {
    expect(dedupeKey('ucd', 'acme', 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96')).toMatch(
      /^ucd:dd:acme:[A-Za-z0-9_-]{22}$/,
    )
    expect(dedupeKey('ucd', 'a', 'm')).not.toBe(dedupeKey('ucd', 'b', 'm'))
  })
})

describe('eventKeys', () => {
  it('gives the same job id and dedupe key as eventJobId and dedupeKey', () => {
    const messageId = 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96'
    expect(eventKeys('ucd', 'acme', messageId)).toEqual({
      jobId: eventJobId('acme', messageId),
      dedupeKey: dedupeKey('ucd', 'acme', messageId),
    })
  })
})
