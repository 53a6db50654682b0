import { describe, expect, it } from '@jest/globals'
import { SegmentEventSchema } from '../index'

const track = {
  type: 'track',
  event: 'Course Clicked',
  properties: { title: 'Intro to Analytics' },
  userId: 'AiUGstSDIg',
  messageId: 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96',
  timestamp: '2015-12-12T19:11:01.249Z',
  receivedAt: '2015-12-12T19:11:01.266Z',
  context: {},
  integrations: {},
}

describe('SegmentEventSchema (the normalised event)', () => {
  it('accepts a normalised track', () => {
    expect(SegmentEventSchema.parse(track)).toMatchObject({ type: 'track', event: 'Course Clicked' })
  })

  it('needs userId or anonymousId', () => {
    const { userId: _userId, ...anonymousless } = track
    const result = SegmentEventSchema.safeParse(anonymousless)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toBe('userId or anonymousId is required')
    expect(SegmentEventSchema.safeParse({ ...anonymousless, anonymousId: 'a1' }).success).toBe(true)
  })

  it('needs event on a track and groupId on a group', () => {
    expect(SegmentEventSchema.safeParse({ ...track, event: '' }).success).toBe(false)
    const group = { ...track, type: 'group', traits: {} }
    expect(SegmentEventSchema.safeParse(group).success).toBe(false)
    expect(SegmentEventSchema.safeParse({ ...group, groupId: 'g1' }).success).toBe(true)
  })
})
