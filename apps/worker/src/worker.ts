import { Worker, type MinimalJob } from 'bullmq'
import type { Config, Tenant } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import {
  createDeadLetterQueue,
  createEventsQueue,
  createRedisConnection,
  EVENTS_QUEUE,
  type DeadLetterQueue,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import { createDeadLetterWriter } from './dead-letter'
import { firstAttemptOf, jobDataOf } from './job-data'
import { createWorkerMetrics, type WorkerMetrics } from './metrics'
import { backoffDelay } from './policy'
import type { DeliveryPort, DeliveryPortFactory } from './port'
import { createProcessor, type JobResult } from './processor'
import { startSweeper } from './sweeper'

// Wires one worker process: Redis connections, the queues, the job processor (processor.ts), the
// failed-job sweeper (sweeper.ts), readiness and a draining close.

export interface BuildWorkerOptions {
  config: Config
  logger: Logger
  /** Builds the per-tenant delivery (User.com client + executor). */
  deliveryFor: DeliveryPortFactory
  /** Start taking jobs at once (default true). */
  autorun?: boolean
  /** How often jobs BullMQ itself failed (stalled too often, too many starts) are moved to the DLQ. */
  sweepIntervalMs?: number
  /** Injectable for tests of the policy's edges. */
  random?: () => number
  now?: () => number
}

export interface BuiltWorker {
  readonly worker: Worker<EventJobData, JobResult, string>
  readonly events: EventsQueue
  readonly deadLetter: DeadLetterQueue
  readonly metrics: WorkerMetrics
  /** Start taking jobs (when built with autorun false). */
  run(): void
  /** Moves the jobs BullMQ failed on its own to the DLQ now (what the periodic sweep does); returns how many. */
  sweepFailed(): Promise<number>
  /** True when this worker can make progress: running, and both its Redis connections are up. */
  isReady(): Promise<boolean>
  /**
   * Stop taking jobs, let in-flight ones finish for up to `drainTimeoutMs` (then force: unfinished
   * jobs stay locked until their lock expires and another worker takes them over), close everything.
   */
  close(drainTimeoutMs?: number): Promise<{ drained: boolean }>
}

interface RedisBackendLike {
  blockingClient?: Promise<{ status?: string }>
}

export function buildWorker(options: BuildWorkerOptions): BuiltWorker {
  const { config, logger } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const prefix = config.queuePrefix
  const retryWindowMs = config.worker.retryWindowMinutes * 60_000

  const connection = createRedisConnection(config.redisUrl, 'worker', { connectionName: 'ucd-worker' })
  const cacheRedis = createRedisConnection(config.redisUrl, 'worker', { connectionName: 'ucd-worker-cache' })
  for (const c of [connection, cacheRedis])
    c.on('error', err => logger.warn({ err }, 'redis connection error'))
  const events = createEventsQueue(connection, prefix)
  const deadLetter = createDeadLetterQueue(connection, prefix)
  events.on('error', err => logger.warn({ err }, 'events queue error'))
  deadLetter.on('error', err => logger.warn({ err }, 'dead-letter queue error'))
  const metrics = createWorkerMetrics({ events, deadLetter })

  const deliveries = new Map<string, DeliveryPort>()
  const deliveryFor = (tenant: Tenant): DeliveryPort => {
    let port = deliveries.get(tenant.id)
    if (!port) {
      port = options.deliveryFor(tenant, { config, redis: cacheRedis, metrics, logger })
      deliveries.set(tenant.id, port)
    }
    return port
  }
  const writeDeadLetter = createDeadLetterWriter({ deadLetter, metrics, now })

  const processor = createProcessor({
    config,
    logger,
    metrics,
    deliveryFor,
    writeDeadLetter,
    now,
  })
  const worker = new Worker<EventJobData, JobResult, string>(EVENTS_QUEUE, processor, {
    connection,
    prefix,
    autorun: false,
    concurrency: config.worker.concurrency,
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
    intervalMs: options.sweepIntervalMs ?? 30_000,
  })

  let closed = false
  const run = (): void => {
    if (worker.isRunning()) return
    worker.run().catch(err => logger.error({ err }, 'worker stopped with an error'))
  }
  if (options.autorun !== false) run()

  return {
    worker,
    events,
    deadLetter,
    metrics,
    run,
    sweepFailed: () => sweeper.sweepFailed(),
    async isReady() {
      if (closed || !worker.isRunning() || connection.status !== 'ready') return false
      const blocking = await ((worker.backend as unknown as RedisBackendLike).blockingClient ??
        Promise.resolve(undefined))
      return blocking?.status === 'ready'
    },
    async close(drainTimeoutMs = config.worker.drainTimeoutMs) {
      if (closed) return { drained: true }
      closed = true
      await sweeper.stop()
      let timer: NodeJS.Timeout | undefined
      const graceful = worker.close().then(() => true)
      const timeout = new Promise<boolean>(resolve => {
        timer = setTimeout(() => resolve(false), drainTimeoutMs)
      })
      const drained = await Promise.race([graceful, timeout])
      clearTimeout(timer)
      if (!drained) await worker.close(true)
      await Promise.allSettled([events.close(), deadLetter.close()])
      await Promise.allSettled([connection.quit(), cacheRedis.quit()])
      return { drained }
    },
  }
}
