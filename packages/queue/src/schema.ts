import { SegmentEventSchema } from '@ucd/segment'
import { DEAD_LETTER_KINDS, MAX_RESPONSE_TEXT_LENGTH } from '@ucd/usercom-client'
import { z } from 'zod'

/** Queue names (under QUEUE_PREFIX). */
export const EVENTS_QUEUE = 'events'
export const DEAD_LETTER_QUEUE = 'dead-letter'

const IsoDate = z.iso.datetime({ offset: true })

/** Worker-managed delivery progress, kept in the job between attempts. */
export const DeliveryStateSchema = z.object({
  /** Epoch ms of the first attempt: the retry window is measured from here. */
  firstAttemptAt: z.number().int().optional(),
  /** Plan steps that already succeeded, by step key, with what they returned (e.g. a company id). */
  checkpoints: z.record(z.string(), z.unknown()).optional(),
  /**
   * Consecutive failed attempts that saved no new checkpoint (0 after one that did): the backoff
   * exponent counts these, so an attempt that made progress retries after the base delay.
   */
  failuresWithoutProgress: z.number().int().nonnegative().optional(),
})
export type DeliveryState = z.infer<typeof DeliveryStateSchema>

/** Data of one `events` job: one accepted event. Never holds an API key or write key. */
export const EventJobDataSchema = z.object({
  tenantId: z.string().min(1),
  /** The normalised Segment event. */
  event: SegmentEventSchema,
  /** ISO time the ingest accepted it. */
  receivedAt: IsoDate,
  /** Set when the admin CLI re-enqueued it from the dead-letter queue. */
  replay: z.object({ count: z.number().int().positive(), at: IsoDate }).optional(),
  delivery: DeliveryStateSchema.optional(),
})
export type EventJobData = z.infer<typeof EventJobDataSchema>

/**
 * Why an event was dead-lettered: the User.com failure kinds that dead-letter at once (`forbidden`,
 * `unauthorized`, `rejected`, and `invalid`: the job cannot be mapped or an id cannot be sent; declared
 * by @ucd/usercom-client) and `exhausted` (the retry window was spent).
 */
export const DEAD_LETTER_REASONS = [...DEAD_LETTER_KINDS, 'exhausted'] as const
export const DeadLetterReasonSchema = z.enum(DEAD_LETTER_REASONS)
export type DeadLetterReason = z.infer<typeof DeadLetterReasonSchema>

/** One `dead-letter` job: an event User.com refused, or that could not be delivered, and why. */
export const DeadLetterRecordSchema = z.object({
  tenantId: z.string().min(1),
  /** The original event as it was in the job (an `invalid` one may not match the event schema). */
  event: z.record(z.string(), z.unknown()),
  reason: DeadLetterReasonSchema,
  /** HTTP status of the response that decided it, when there was one. */
  status: z.number().int().optional(),
  /** Response body, secrets removed, truncated by @ucd/usercom-client's `truncateResponse`. */
  response: z.string().max(MAX_RESPONSE_TEXT_LENGTH).optional(),
  /** Stable error code (e.g. UC_ERR_FORBIDDEN) and message. */
  error: z.object({ code: z.string(), message: z.string() }),
  /** Attempts made before it was dead-lettered. */
  attempts: z.number().int().nonnegative(),
  firstAttemptAt: IsoDate,
  deadAt: IsoDate,
  /** The `events` job it came from. */
  sourceJobId: z.string(),
  receivedAt: IsoDate.optional(),
  /** How many times it has been replayed before. */
  replays: z.number().int().nonnegative(),
})
export type DeadLetterRecord = z.infer<typeof DeadLetterRecordSchema>
