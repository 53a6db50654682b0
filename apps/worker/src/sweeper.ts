import { randomUUID } from 'node:crypto'
import type { Logger } from '@ucd/logger'
import { EventJobDataSchema, type EventsQueue, type RedisClient } from '@ucd/queue'
import type { DeadLetterWriter } from './dead-letter'
import { firstAttemptOf, invalidJobData, jobDataOf } from './job-data'

// Jobs BullMQ fails on its own (stalled too often, too many started attempts) are moved to the DLQ
// as `exhausted` (as `invalid` when their data is not an event job), so nothing waits unnoticed in
// the failed set. Each job on its own: one that cannot be moved is logged and left for the next pass.
// One sweeper per shard at a time across all worker processes (the lock is under the shard's prefix): two sweeping the same snapshot could remove a
// job that an operator replayed (same id) between one's move and the other's remove.

/** How long one sweep may hold the lock (a sweep of 100 jobs takes well under a second). */
const SWEEP_LOCK_MS = 60_000
/** Deletes the lock only if it is still ours (it may have expired and been taken since). */
const RELEASE_LOCK_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export interface SweeperDeps {
  /** The worker's queue connection (the lock lives there). */
  connection: RedisClient
  events: EventsQueue
  prefix: string
  writeDeadLetter: DeadLetterWriter
  logger: Logger
  intervalMs: number
}

export interface Sweeper {
  /** Moves the failed jobs to the DLQ now; returns how many (0 when another process holds the lock). */
  sweepFailed(): Promise<number>
  /** Stops the periodic sweep and waits for one under way. */
  stop(): Promise<void>
}

/** Starts the periodic sweep of the `failed` set (unref'd: it keeps no process alive). */
export function startSweeper(deps: SweeperDeps): Sweeper {
  const { connection, events, logger } = deps
  const lockKey = `${deps.prefix}:sweep-lock`

  async function sweepFailed(): Promise<number> {
    const token = randomUUID()
    if ((await connection.set(lockKey, token, 'PX', SWEEP_LOCK_MS, 'NX')) === null) return 0
    try {
      return await sweepLocked()
    } finally {
      await connection
        .eval(RELEASE_LOCK_LUA, 1, lockKey, token)
        .catch((err: unknown) => logger.warn({ err }, 'could not release the sweep lock; it expires'))
    }
  }

  async function sweepLocked(): Promise<number> {
    const failed = await events.getFailed(0, 99)
    let moved = 0
    for (const job of failed) {
      try {
        // Still failed? (A retry or a replay since the snapshot makes it someone else's.)
        if (job.id === undefined || (await events.getJobState(job.id)) !== 'failed') continue
        const data: unknown = job.data
        const firstAttemptAt = firstAttemptOf(jobDataOf(data), job.processedOn ?? job.timestamp)
        const parsed = EventJobDataSchema.safeParse(data)
        const invalid = parsed.success ? undefined : invalidJobData(parsed.error)
        const failedReason = job.failedReason || 'failed'
        await deps.writeDeadLetter(
          job,
          invalid ? 'invalid' : 'exhausted',
          invalid
            ? { kind: 'invalid', code: invalid.code, message: `${invalid.message}; failed: ${failedReason}` }
            : { kind: 'retryable', code: 'UCD_ERR_JOB_FAILED', message: failedReason },
          firstAttemptAt,
        )
        await job.remove().catch(() => undefined)
        moved += 1
      } catch (err) {
        logger.warn({ err, jobId: job.id }, 'could not move a failed job to the DLQ; will try again')
      }
    }
    return moved
  }

  let sweeping: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    sweeping = sweepFailed().catch(err => logger.warn({ err }, 'could not move failed jobs to the DLQ'))
  }, deps.intervalMs)
  timer.unref()

  return {
    sweepFailed,
    async stop() {
      clearInterval(timer)
      await sweeping
    },
  }
}
