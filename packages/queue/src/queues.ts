import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq'
import { DEAD_LETTER_QUEUE, EVENTS_QUEUE, type DeadLetterRecord, type EventJobData } from './schema'

/** Retries are bounded by the worker's retry window, not by a count: attempts is only a backstop. */
export const MAX_EVENT_ATTEMPTS = 100_000

/** The backoff type the worker's backoffStrategy implements (exponential with full jitter). */
export const EVENT_BACKOFF_TYPE = 'ucd-full-jitter'

/**
 * Options of every `events` job. Completed jobs are removed at once: dedupe is the ingest's TTL
 * marker, so Redis holds no per-event data after delivery. Failed jobs are kept: the worker
 * dead-letters what it gives up on itself, so a job in `failed` is one that needs a look.
 */
export const EVENT_JOB_OPTIONS: JobsOptions = {
  attempts: MAX_EVENT_ATTEMPTS,
  backoff: { type: EVENT_BACKOFF_TYPE },
  removeOnComplete: true,
  removeOnFail: false,
}

/** Dead-letter records stay until replayed or purged. */
export const DEAD_LETTER_JOB_OPTIONS: JobsOptions = { removeOnComplete: false, removeOnFail: false }

export type EventsQueue = Queue<EventJobData, unknown, string>
export type DeadLetterQueue = Queue<DeadLetterRecord, unknown, string>

/** `readOnly`: skip BullMQ's meta update on open, so opening the queue writes nothing to Redis. */
export interface QueueOpenOptions {
  readOnly?: boolean
}

export function createEventsQueue(
  connection: ConnectionOptions,
  prefix: string,
  options: QueueOpenOptions = {},
): EventsQueue {
  return new Queue<EventJobData, unknown, string>(EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: EVENT_JOB_OPTIONS,
    skipMetasUpdate: options.readOnly === true,
  })
}

export function createDeadLetterQueue(
  connection: ConnectionOptions,
  prefix: string,
  options: QueueOpenOptions = {},
): DeadLetterQueue {
  return new Queue<DeadLetterRecord, unknown, string>(DEAD_LETTER_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: DEAD_LETTER_JOB_OPTIONS,
    skipMetasUpdate: options.readOnly === true,
  })
}
