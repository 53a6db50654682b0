import { randomUUID } from 'node:crypto'
import { Worker, type Job, type MinimalJob } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Config, Tenant } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import type { Dropped } from '@ucd/mapping'
import {
  createDeadLetterQueue,
  createEventsQueue,
  createRedisConnection,
  deadLetterJobId,
  DeadLetterRecordSchema,
  EVENTS_QUEUE,
  EventJobDataSchema,
  MAX_DLQ_RESPONSE_CHARS,
  type DeadLetterQueue,
  type DeadLetterReason,
  type DeadLetterRecord,
  type DeliveryState,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import { isObject, type SegmentEvent } from '@ucd/segment'
import type { z } from 'zod'
import { createWorkerMetrics, type WorkerMetrics } from './metrics'
import { backoffDelay, classify, decide, InvalidJobError, type Failure } from './policy'

/** What the worker needs from the User.com side: run one event's plan, resuming from checkpoints. */
export interface DeliveryPort {
  deliver(
    event: SegmentEvent,
    options: {
      checkpoints: Readonly<Record<string, unknown>>
      onStep: (key: string, result: unknown) => void
    },
  ): Promise<{ skipped?: string | undefined; dropped: readonly Dropped[] }>
}

export interface DeliveryPortContext {
  config: Config
  /** A connection for caches and rate limiters (waits while Redis is away). */
  redis: Redis
  metrics: WorkerMetrics
  logger: Logger
}

export type DeliveryPortFactory = (tenant: Tenant, context: DeliveryPortContext) => DeliveryPort

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

export interface JobResult {
  outcome: 'delivered' | 'skipped' | 'dead_lettered'
  reason?: string
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

/** How long one sweep may hold the lock (a sweep of 100 jobs takes well under a second). */
const SWEEP_LOCK_MS = 60_000
/** Deletes the lock only if it is still ours (it may have expired and been taken since). */
const RELEASE_LOCK_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** Job data read defensively: the data of an invalid job may be anything, and it must still be dead-lettered. */
const jobDataOf = (data: unknown): Partial<EventJobData> => (isObject(data) ? data : {})

/** When a job was first tried: its stored time (a finite number, whoever wrote it), else `otherwise`. */
function firstAttemptOf(data: Partial<EventJobData>, otherwise: number): number {
  const stored: unknown = data.delivery?.firstAttemptAt
  return typeof stored === 'number' && Number.isFinite(stored) ? stored : otherwise
}

/** The `invalid` failure of job data that is not an event job. */
function invalidJobData(error: z.ZodError): InvalidJobError {
  const where = error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')
  return new InvalidJobError('UCD_ERR_INVALID_JOB', `job data does not match the event job schema (${where})`)
}

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
  return DeadLetterRecordSchema.parse({
    tenantId: typeof raw.tenantId === 'string' && raw.tenantId !== '' ? raw.tenantId : 'unknown',
    event: isObject(raw.event) ? raw.event : raw.event === undefined ? {} : { original: raw.event },
    reason: input.reason,
    status: Number.isInteger(input.failure.status) ? input.failure.status : undefined,
    response: truncate(input.failure.response),
    error: { code: input.failure.code, message: input.failure.message.slice(0, 1000) },
    attempts: Math.max(0, Math.floor(input.attempts) || 0),
    firstAttemptAt: iso(input.firstAttemptAt),
    deadAt: iso(input.now),
    sourceJobId: input.sourceJobId,
    receivedAt: receivedAt.success ? receivedAt.data : undefined,
    replays: typeof replays === 'number' && Number.isInteger(replays) && replays >= 0 ? replays : 0,
  })
}

function truncate(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  return text.length > MAX_DLQ_RESPONSE_CHARS ? `${text.slice(0, MAX_DLQ_RESPONSE_CHARS)}…[truncated]` : text
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

  async function writeDeadLetter(
    job: Job<EventJobData, JobResult, string>,
    reason: DeadLetterReason,
    failure: Failure,
    firstAttemptAt: number,
  ): Promise<void> {
    const record = deadLetterRecord({
      data: job.data,
      reason,
      failure,
      attempts: job.attemptsMade + 1,
      firstAttemptAt,
      now: now(),
      sourceJobId: job.id ?? 'unknown',
    })
    // Same id on a repeat (a crash between this add and the job's completion): BullMQ ignores it.
    await deadLetter.add(reason, record, { jobId: deadLetterJobId(record.sourceJobId, record.replays) })
    metrics.deadLettered.inc({ reason })
  }

  async function saveProgress(
    job: Job<EventJobData, JobResult, string>,
    delivery: DeliveryState,
  ): Promise<void> {
    await job.updateData({ ...job.data, delivery })
  }

  const processor = async (job: Job<EventJobData, JobResult, string>): Promise<JobResult> => {
    const started = now()
    const raw = jobDataOf(job.data)
    const firstAttemptAt = firstAttemptOf(raw, job.processedOn ?? started)
    const type = typeof raw.event?.type === 'string' ? raw.event.type : 'unknown'
    // The job's child logger, made on first use: most jobs log nothing at the default level, and a
    // child per job (bindings scrubbed and serialised) was a measurable share of a delivery's CPU.
    let jobLog: Logger | undefined
    const log = (): Logger =>
      (jobLog ??= logger.child({
        jobId: job.id,
        tenantId: raw.tenantId,
        messageId: raw.event?.messageId,
        type,
        attempt: job.attemptsMade + 1,
      }))
    const checkpoints: Record<string, unknown> = { ...raw.delivery?.checkpoints }
    // Set by every step that ran: a new key, or a new value under an existing one (a re-resolved user).
    let stepsRan = false
    try {
      const parsed = EventJobDataSchema.safeParse(job.data)
      if (!parsed.success) throw invalidJobData(parsed.error)
      const tenant = config.tenants.byId(parsed.data.tenantId)
      if (!tenant?.usercom) {
        throw new InvalidJobError(
          'UCD_ERR_UNKNOWN_TENANT',
          `tenant "${parsed.data.tenantId}" is not configured`,
        )
      }
      const result = await deliveryFor(tenant).deliver(parsed.data.event, {
        checkpoints,
        onStep: (key, value) => {
          checkpoints[key] = value
          stepsRan = true
        },
      })
      if (result.dropped.length > 0) {
        metrics.dropped.inc({ type }, result.dropped.length)
        log().info({ dropped: result.dropped }, 'values left out of the delivery')
      }
      if (result.skipped !== undefined) {
        metrics.deliveries.inc({ type, outcome: 'skipped' })
        log().info({ reason: result.skipped }, 'not delivered: not a call this destination takes')
        return { outcome: 'skipped', reason: result.skipped }
      }
      metrics.deliveries.inc({ type, outcome: 'delivered' })
      metrics.lag.observe(Math.max(0, now() - Date.parse(parsed.data.receivedAt)) / 1000)
      if (logger.isLevelEnabled('debug')) log().debug({ ms: now() - started }, 'delivered')
      return { outcome: 'delivered' }
    } catch (error) {
      const failure = classify(error)
      const decision = decide(failure, { firstAttemptAt, now: now(), retryWindowMs })
      const progressChanged = stepsRan || !raw.delivery?.firstAttemptAt
      switch (decision.action) {
        case 'dead_letter':
          await writeDeadLetter(job, decision.reason, failure, firstAttemptAt)
          metrics.deliveries.inc({ type, outcome: 'dead_lettered' })
          log().warn({ reason: decision.reason, code: failure.code, status: failure.status }, 'dead-lettered')
          return { outcome: 'dead_lettered', reason: decision.reason }
        case 'pause':
          if (progressChanged) await saveProgress(job, { firstAttemptAt, checkpoints })
          metrics.retries.inc({ kind: failure.kind, code: failure.code })
          metrics.deliveries.inc({ type, outcome: 'paused' })
          log().info(
            { pauseMs: decision.delayMs, code: failure.code },
            'rate limited by User.com: pausing the queue',
          )
          await worker.rateLimit(decision.delayMs)
          throw Worker.RateLimitError()
        case 'retry':
          if (progressChanged) await saveProgress(job, { firstAttemptAt, checkpoints })
          metrics.retries.inc({ kind: failure.kind, code: failure.code })
          metrics.deliveries.inc({ type, outcome: 'retried' })
          log().info(
            { code: failure.code, status: failure.status, err: error },
            'delivery failed, will retry',
          )
          throw error instanceof Error ? error : new Error(failure.message)
      }
    }
  }

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
    // worker.rateLimit() (our 429 pause) is only honoured when a limiter is configured; this one never binds.
    limiter: { max: 1_000_000_000, duration: 1000 },
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: MinimalJob) => {
        const first = firstAttemptOf(jobDataOf(job?.data), job?.processedOn ?? now())
        return backoffDelay({
          attemptsMade,
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

  // Jobs BullMQ fails on its own (stalled too often, too many started attempts) are moved to the DLQ
  // as `exhausted` (as `invalid` when their data is not an event job), so nothing waits unnoticed in
  // the failed set. Each job on its own: one that cannot be moved is logged and left for the next pass.
  // One sweeper at a time across all worker processes: two sweeping the same snapshot could remove a
  // job that an operator replayed (same id) between one's move and the other's remove.
  const sweepLockKey = `${prefix}:sweep-lock`
  async function sweepFailed(): Promise<number> {
    const token = randomUUID()
    if ((await connection.set(sweepLockKey, token, 'PX', SWEEP_LOCK_MS, 'NX')) === null) return 0
    try {
      return await sweepLocked()
    } finally {
      await connection
        .eval(RELEASE_LOCK_LUA, 1, sweepLockKey, token)
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
        await writeDeadLetter(
          job as Job<EventJobData, JobResult, string>,
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
  const sweeper = setInterval(() => {
    sweeping = sweepFailed().catch(err => logger.warn({ err }, 'could not move failed jobs to the DLQ'))
  }, options.sweepIntervalMs ?? 30_000)
  sweeper.unref()

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
    sweepFailed,
    async isReady() {
      if (closed || !worker.isRunning() || connection.status !== 'ready') return false
      const blocking = await ((worker.backend as unknown as RedisBackendLike).blockingClient ??
        Promise.resolve(undefined))
      return blocking?.status === 'ready'
    },
    async close(drainTimeoutMs = config.worker.drainTimeoutMs) {
      if (closed) return { drained: true }
      closed = true
      clearInterval(sweeper)
      await sweeping
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
