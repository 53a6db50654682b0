import { Worker, type MinimalJob } from 'bullmq'
import type { Config } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import {
  createDeadLetterQueue,
  createEventsQueue,
  EVENTS_QUEUE,
  type DeadLetterQueue,
  type EventJobData,
  type EventsQueue,
  type RedisClient,
} from '@ucd/queue'
import { createDeadLetterWriter } from './dead-letter'
import { firstAttemptOf, jobDataOf } from './job-data'
import type { WorkerMetrics } from './metrics'
import { backoffDelay } from './policy'
import { createProcessor, type JobResult, type ProcessorDeps } from './processor'
import { startSweeper, type Sweeper } from './sweeper'

// One consumed shard of the events queue (QUEUE_SHARDS, issue 19): its `events` and `dead-letter`
// queues under the shard's prefix, one BullMQ Worker, the dead-letter writer (a job's dead letter goes
// to its own shard's DLQ: same hash tag, same node) and the failed-job sweeper with its lock.

/**
 * WORKER_CONCURRENCY is per process: split over the consumed shards, shard i of n gets
 * floor(c / n), plus one for the first c mod n, and at least 1 (so the total is max(c, n)). The
 * process's sockets, memory and User.com rate stay what was configured whatever QUEUE_SHARDS is.
 */
export function shardConcurrency(concurrency: number, shards: number, index: number): number {
  return Math.max(1, Math.floor(concurrency / shards) + (index < concurrency % shards ? 1 : 0))
}

export interface ShardWorker {
  readonly shard: number
  readonly prefix: string
  readonly worker: Worker<EventJobData, JobResult, string>
  readonly events: EventsQueue
  readonly deadLetter: DeadLetterQueue
  readonly sweeper: Sweeper
}

export interface ShardWorkerOptions {
  shard: number
  prefix: string
  concurrency: number
  config: Config
  logger: Logger
  connection: RedisClient
  metrics: WorkerMetrics
  processorDeps: Omit<ProcessorDeps, 'writeDeadLetter'>
  sweepIntervalMs: number
  random: () => number
  now: () => number
}

export function buildShardWorker(options: ShardWorkerOptions): ShardWorker {
  const { config, logger, connection, now, random, prefix } = options
  const retryWindowMs = config.worker.retryWindowMinutes * 60_000
  const events = createEventsQueue(connection, prefix)
  const deadLetter = createDeadLetterQueue(connection, prefix)
  events.on('error', err => logger.warn({ err }, 'events queue error'))
  deadLetter.on('error', err => logger.warn({ err }, 'dead-letter queue error'))
  const writeDeadLetter = createDeadLetterWriter({ deadLetter, metrics: options.metrics, now })
  const processor = createProcessor({
    ...options.processorDeps,
    writeDeadLetter,
  })
  const worker = new Worker<EventJobData, JobResult, string>(EVENTS_QUEUE, processor, {
    connection,
    prefix,
    autorun: false,
    concurrency: options.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    // A crashed worker's jobs come back; failing a job after one stall would dead-letter deliverable events.
    maxStalledCount: 10,
    maxStartedAttempts: config.worker.maxStartedAttempts,
    // No queue-wide limiter: a 429 pauses its tenant only (packages/delivery TenantPause).
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: MinimalJob) => {
        const data = jobDataOf(job?.data)
        const first = firstAttemptOf(data, job?.processedOn ?? now())
        // The processor saved the count before throwing; a job without it counts every attempt.
        const counted = data.delivery?.failuresWithoutProgress
        return backoffDelay({
          failuresWithoutProgress: typeof counted === 'number' ? counted : attemptsMade,
          baseDelayMs: config.worker.retryBaseDelayMs,
          maxDelayMs: config.worker.retryMaxDelayMs,
          msUntilWindowEnd: first + retryWindowMs - now(),
          random: random(),
        })
      },
    },
  })
  worker.on('error', err => logger.error({ err }, 'worker error'))
  worker.on('stalled', jobId => logger.warn({ jobId }, 'job stalled (its worker stopped); it will run again'))
  const sweeper = startSweeper({
    connection,
    events,
    prefix,
    writeDeadLetter,
    logger,
    intervalMs: options.sweepIntervalMs,
  })
  return { shard: options.shard, prefix, worker, events, deadLetter, sweeper }
}
