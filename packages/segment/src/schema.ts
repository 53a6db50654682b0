import { z } from 'zod'
import { isPlainObject } from './json'

// The normalised Segment event: what the ingest enqueues (job data `event`) and what the mapping
// package plans from. Produced by `normalizeEvent` from whatever real clients send; strict here,
// lenient there. This file is the contract between ingest, queue, mapping and worker.

export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const
export const EventTypeSchema = z.enum(EVENT_TYPES)
export type EventType = z.infer<typeof EventTypeSchema>

/** Types this destination delivers; the others are accepted and counted as not delivered. */
export const DELIVERED_TYPES = ['identify', 'track', 'page', 'group'] as const satisfies readonly EventType[]

export const MAX_EVENT_BYTES = 32 * 1024
export const MAX_BATCH_BYTES = 500 * 1024
export const MAX_MESSAGE_ID_LENGTH = 100

const IsoDate = z.iso.datetime({ offset: true })
/**
 * A plain JSON object (traits, properties, context, integrations), checked but not copied: a record
 * schema rebuilt every object key by key, a third of the cost of validating an event.
 */
const JsonObject = z.custom<Record<string, unknown>>(isPlainObject, { error: 'expected an object' })

const common = {
  /** Present, at most 100 characters; filled in (UUID) when the client sent none. */
  messageId: z.string().min(1).max(MAX_MESSAGE_ID_LENGTH),
  /** Strings (numbers from clients are turned into strings); at least one of the two is present. */
  userId: z.string().min(1).optional(),
  anonymousId: z.string().min(1).optional(),
  /** When it happened, ISO 8601 UTC, clock-skew corrected: receivedAt - (sentAt - originalTimestamp). */
  timestamp: IsoDate,
  /** The client's own timestamp, when it sent one that parsed. */
  originalTimestamp: IsoDate.optional(),
  sentAt: IsoDate.optional(),
  /** When the ingest received it (or Segment did, for forwarded events). */
  receivedAt: IsoDate,
  context: JsonObject,
  integrations: JsonObject,
  /** Kept as sent; not used for delivery. */
  channel: z.string().optional(),
  version: z.union([z.number(), z.string()]).optional(),
  projectId: z.string().optional(),
}

export const IdentifyEventSchema = z.object({ ...common, type: z.literal('identify'), traits: JsonObject })
export const TrackEventSchema = z.object({
  ...common,
  type: z.literal('track'),
  event: z.string().min(1),
  properties: JsonObject,
})
export const PageEventSchema = z.object({
  ...common,
  type: z.literal('page'),
  name: z.string().optional(),
  category: z.string().optional(),
  properties: JsonObject,
})
export const ScreenEventSchema = z.object({
  ...common,
  type: z.literal('screen'),
  name: z.string().optional(),
  category: z.string().optional(),
  properties: JsonObject,
})
export const GroupEventSchema = z.object({
  ...common,
  type: z.literal('group'),
  groupId: z.string().min(1),
  traits: JsonObject,
})
export const AliasEventSchema = z.object({
  ...common,
  type: z.literal('alias'),
  previousId: z.string().min(1),
})

export const SegmentEventSchema = z
  .discriminatedUnion('type', [
    IdentifyEventSchema,
    TrackEventSchema,
    PageEventSchema,
    ScreenEventSchema,
    GroupEventSchema,
    AliasEventSchema,
  ])
  .refine(e => e.userId !== undefined || e.anonymousId !== undefined, {
    error: 'userId or anonymousId is required',
    path: ['userId'],
  })

export type SegmentEvent = z.infer<typeof SegmentEventSchema>
export type IdentifyEvent = z.infer<typeof IdentifyEventSchema>
export type TrackEvent = z.infer<typeof TrackEventSchema>
export type PageEvent = z.infer<typeof PageEventSchema>
export type ScreenEvent = z.infer<typeof ScreenEventSchema>
export type GroupEvent = z.infer<typeof GroupEventSchema>
export type AliasEvent = z.infer<typeof AliasEventSchema>

/** One problem with one event, for ingest responses and counters. */
export const ValidationIssueSchema = z.object({ path: z.string(), message: z.string() })
export type ValidationIssue = z.infer<typeof ValidationIssueSchema>
