import type { Worker } from 'bullmq'
import type { Config, Tenant } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import {
  createRedisConnection,
  shardsOf,
  type DeadLetterQueue,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import { createWorkerMetrics, type WorkerMetrics } from './metrics'
import type { DeliveryPort, DeliveryPortFactory } from './port'
import type { JobResult } from './processor'
import { buildShardWorker, shardConcurrency, type ShardWorker } from './shard-worker'

// Wires one worker process: Redis connections (one server or a Redis Cluster, config.redis), one
// BullMQ Worker per consumed shard of the events queue (shard-worker.ts: processor, dead-letter
// writer, failed-job sweeper), readiness over every shard and a draining close.

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
  /** The first consumed shard's Worker and queues (the only ones with QUEUE_SHARDS=1). */
  readonly worker: Worker<EventJobData, JobResult, string>
  readonly events: EventsQueue
  readonly deadLetter: DeadLetterQueue
  /** Every consumed shard (WORKER_SHARDS, else all of QUEUE_SHARDS), ascending. */
  readonly shards: readonly ShardWorker[]
  readonly metrics: WorkerMetrics
  /** Start taking jobs (when built with autorun false). */
  run(): void
  /** Moves the jobs BullMQ failed on its own to the DLQ now, on every shard (the periodic sweep); returns how many. */
  sweepFailed(): Promise<number>
  /** True when this worker can make progress: running on every shard, and its Redis connections are up. */
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

  const connection = createRedisConnection(config.redis, 'worker', { connectionName: 'ucd-worker' })
  const cacheRedis = createRedisConnection(config.redis, 'worker', { connectionName: 'ucd-worker-cache' })
  for (const c of [connection, cacheRedis])
    c.on('error', err => logger.warn({ err }, 'redis connection error'))

  const consumed = shardsOf(config.queuePrefix, config.queueShards, config.worker.shards)
  const shards: ShardWorker[] = []
  const metrics = createWorkerMetrics({ shards })

  const deliveries = new Map<string, DeliveryPort>()
  const deliveryFor = (tenant: Tenant): DeliveryPort => {
    let port = deliveries.get(tenant.id)
    if (!port) {
      port = options.deliveryFor(tenant, { config, redis: cacheRedis, metrics, logger })
      deliveries.set(tenant.id, port)
    }
    return port
  }
  consumed.forEach(({ shard, prefix }, index) => {
    const shardLogger = consumed.length === 1 ? logger : logger.child({ shard })
    shards.push(
      buildShardWorker({
        shard,
        prefix,
        concurrency: shardConcurrency(config.worker.concurrency, consumed.length, index),
        config,
        logger: shardLogger,
        connection,
        metrics,
        processorDeps: { config, logger: shardLogger, metrics, deliveryFor, now },
        sweepIntervalMs: options.sweepIntervalMs ?? 30_000,
        random,
        now,
      }),
    )
  })
  const first = shards[0]!

  let closed = false
  const run = (): void => {
    for (const { worker } of shards) {
      if (worker.isRunning()) continue
      worker.run().catch(err => logger.error({ err }, 'worker stopped with an error'))
    }
  }
  if (options.autorun !== false) run()

  return {
    worker: first.worker,
    events: first.events,
    deadLetter: first.deadLetter,
    shards,
    metrics,
    run,
    async sweepFailed() {
      let moved = 0
      for (const s of shards) moved += await s.sweeper.sweepFailed()
      return moved
    },
    async isReady() {
      if (closed || connection.status !== 'ready') return false
      for (const { worker } of shards) {
        if (!worker.isRunning()) return false
        const blocking = await ((worker.backend as unknown as RedisBackendLike).blockingClient ??
          Promise.resolve(undefined))
        if (blocking?.status !== 'ready') return false
      }
      return true
    },
    async close(drainTimeoutMs = config.worker.drainTimeoutMs) {
      if (closed) return { drained: true }
      closed = true
      await Promise.all(shards.map(s => s.sweeper.stop()))
      let timer: NodeJS.Timeout | undefined
      const graceful = Promise.all(shards.map(s => s.worker.close())).then(() => true)
      const timeout = new Promise<boolean>(resolve => {
        timer = setTimeout(() => resolve(false), drainTimeoutMs)
      })
      const drained = await Promise.race([graceful, timeout])
      clearTimeout(timer)
      if (!drained) await Promise.all(shards.map(s => s.worker.close(true)))
      await Promise.allSettled(shards.flatMap(s => [s.events.close(), s.deadLetter.close()]))
      await Promise.allSettled([connection.quit(), cacheRedis.quit()])
      return { drained }
    },
  }
}
