import type { Job } from 'bullmq'
import {
  deadLetterJobId,
  DeadLetterRecordSchema,
  type DeadLetterQueue,
  type DeadLetterReason,
  type DeadLetterRecord,
} from '@ucd/queue'
import { isObject } from '@ucd/segment'
import { truncateResponse } from '@ucd/usercom-client'
import type { WorkerMetrics } from './metrics'
import type { Failure } from './policy'

/**
 * The dead-letter record of a job, whatever its data (an `invalid` job's may be anything): the
 * original event as far as the record's schema allows (a value that is not an object is kept as
 * `{ original }`), a time that cannot be read is left out (`receivedAt`) or is now, so building the
 * record never throws and the job always leaves the queue.
 */
function deadLetterRecord(input: {
  data: unknown
  reason: DeadLetterReason
  failure: Failure
  attempts: number
  firstAttemptAt: number
  now: number
  sourceJobId: string
}): DeadLetterRecord {
  const raw = isObject(input.data) ? input.data : {}
  const iso = (ms: number): string => {
    const at = new Date(ms)
    return Number.isNaN(at.getTime()) ? new Date(input.now).toISOString() : at.toISOString()
  }
  const receivedAt = DeadLetterRecordSchema.shape.receivedAt.safeParse(raw.receivedAt)
  const replay = isObject(raw.replay) ? raw.replay : {}
  const replays = replay.count
  const { response } = input.failure
  return DeadLetterRecordSchema.parse({
    tenantId: typeof raw.tenantId === 'string' && raw.tenantId !== '' ? raw.tenantId : 'unknown',
    event: isObject(raw.event) ? raw.event : raw.event === undefined ? {} : { original: raw.event },
    reason: input.reason,
    status: Number.isInteger(input.failure.status) ? input.failure.status : undefined,
    // The client truncated it already; truncating is idempotent, and the record's bound must hold.
    response: response === undefined ? undefined : truncateResponse(response),
    error: { code: input.failure.code, message: input.failure.message.slice(0, 1000) },
    attempts: Math.max(0, Math.floor(input.attempts) || 0),
    firstAttemptAt: iso(input.firstAttemptAt),
    deadAt: iso(input.now),
    sourceJobId: input.sourceJobId,
    receivedAt: receivedAt.success ? receivedAt.data : undefined,
    replays: typeof replays === 'number' && Number.isInteger(replays) && replays >= 0 ? replays : 0,
  })
}

/** Writes a job's dead-letter record (once: its id is deterministic) and counts it. */
export type DeadLetterWriter = (
  job: Pick<Job, 'data' | 'attemptsMade' | 'id'>,
  reason: DeadLetterReason,
  failure: Failure,
  firstAttemptAt: number,
) => Promise<void>

export function createDeadLetterWriter(deps: {
  deadLetter: DeadLetterQueue
  metrics: WorkerMetrics
  now: () => number
}): DeadLetterWriter {
  return async (job, reason, failure, firstAttemptAt) => {
    const record = deadLetterRecord({
      data: job.data,
      reason,
      failure,
      attempts: job.attemptsMade + 1,
      firstAttemptAt,
      now: deps.now(),
      sourceJobId: job.id ?? 'unknown',
    })
    // Same id on a repeat (a crash between this add and the job's completion): BullMQ ignores it.
    await deps.deadLetter.add(reason, record, { jobId: deadLetterJobId(record.sourceJobId, record.replays) })
    deps.metrics.deadLettered.inc({ reason })
  }
}
