import type { Config } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import {
  createEventsQueues,
  createRedisConnection,
  shardOf,
  routingKeyOf,
  type EventsQueue,
  type RedisClient,
  type RedisTarget,
  type ShardedQueues,
} from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { Coalescer } from './coalescer'
import { UnavailableError } from './errors'
import { MemoryGuard } from './memory-guard'
import type { IngestMetrics } from './metrics'
import type { EnqueueResult, IngestProducer } from './producer-port'
import { defineMarkerScripts, writeShard, type ShardRequest, type ShardWriterOptions } from './shard-writer'

export interface EventProducerOptions {
  /** One Redis (a URL or `{ kind: 'single' }`) or a Redis Cluster (`config.redis`). */
  redis: string | RedisTarget
  /** QUEUE_PREFIX: each shard's BullMQ prefix and dedupe marker prefix derive from it (`shardPrefix`). */
  prefix: string
  /** QUEUE_SHARDS: events go to shard `shardOf(tenant, userId ?? anonymousId)`; 1 keeps the unsharded keys. */
  shards?: number
  /**
   * Bound on each Redis command; the whole enqueue of a request is bounded by twice this (plus the wait
   * for the end of the event-loop turn).
   */
  commandTimeoutMs: number
  /** messageId dedupe window; 0 turns dedupe off. */
  dedupeWindowMs: number
  /**
   * INGEST_LINGER_MS: above 0, concurrent requests' events are gathered into one flush per shard (until
   * the event-loop turn that read them ends, see Coalescer); 0 = no gathering.
   */
  lingerMs?: number
  /** INGEST_LINGER_MAX_EVENTS: a flush starts at once when this many events wait for a shard. */
  lingerMaxEvents?: number
  /** INGEST_REDIS_MEMORY_HIGH_PERCENT: 503 "full" from this % of maxmemory on (100 = off). */
  redisMemoryHighPercent?: number
  /** How often the memory guard reads INFO memory (tests). */
  memoryCheckIntervalMs?: number
  logger: Logger
  metrics: IngestMetrics
}

/**
 * Owns the ingest's one Redis connection (a fail-fast producer connection: no offline queue, bounded
 * commands, reconnecting in the background; an ioredis Cluster with REDIS_CLUSTER_NODES) and every
 * shard's events queue on it. The queues are opened once the connection is first ready, so the
 * ingest starts, and answers 503, while Redis is down.
 *
 * A request's events are split by shard. Per shard, a coalescer gathers the events of concurrent
 * requests read in one turn of the event loop (INGEST_LINGER_MS above 0) and writes them in two round
 * trips, one reserve script and then the adds with the commit script in one socket write (`writeShard`:
 * all keys of a flush are under the shard's hash tag, so one slot). A request is answered once every
 * one of its shards' flushes is acknowledged; if one fails it gets 503 (events of other shards may then
 * be stored: the retry finds them committed, as duplicates).
 */
export class EventProducer implements IngestProducer {
  readonly connection: RedisClient
  private queues: ShardedQueues<EventsQueue> | undefined
  private coalescers: Array<Coalescer<ShardRequest, EnqueueResult>> = []
  private initializing: Promise<void> | undefined
  private closed = false
  private lastErrorLogAt = 0
  private retryTimer: NodeJS.Timeout | undefined
  private readonly inflight = new Set<Promise<void>>()
  private readonly options: EventProducerOptions
  private readonly shards: number
  private readonly log: Logger
  private readonly memory: MemoryGuard

  constructor(options: EventProducerOptions) {
    this.options = options
    this.shards = options.shards ?? 1
    this.log = options.logger.child({ component: 'redis' })
    this.connection = createRedisConnection(options.redis, 'producer', {
      commandTimeoutMs: options.commandTimeoutMs,
      connectionName: 'ucd-ingest',
    })
    defineMarkerScripts(this.connection)
    this.memory = new MemoryGuard(
      this.connection,
      options.redisMemoryHighPercent ?? 100,
      this.log,
      options.memoryCheckIntervalMs,
    )
    this.memory.start()
    this.connection.on('error', (error: Error) => this.logRedisError(error))
    this.connection.on('ready', () => {
      this.log.info('Redis connection ready')
      if (this.queues) this.options.metrics.redisUp.set(1)
      else this.initQueues()
    })
    this.connection.on('close', () => {
      this.options.metrics.redisUp.set(0)
    })
    this.options.metrics.redisUp.set(0)
  }

  /**
   * The producer the ingest's settings describe (REDIS_URL or REDIS_CLUSTER_NODES, QUEUE_PREFIX,
   * QUEUE_SHARDS, INGEST_REDIS_TIMEOUT_MS, DEDUPE_WINDOW_MINUTES, INGEST_LINGER_MS, INGEST_LINGER_MAX_EVENTS,
   * INGEST_REDIS_MEMORY_HIGH_PERCENT).
   */
  static fromConfig(config: Config, logger: Logger, metrics: IngestMetrics): EventProducer {
    return new EventProducer({
      redis: config.redis,
      prefix: config.queuePrefix,
      shards: config.queueShards,
      commandTimeoutMs: config.ingest.redisTimeoutMs,
      dedupeWindowMs: config.ingest.dedupeWindowMinutes * 60_000,
      lingerMs: config.ingest.lingerMs,
      lingerMaxEvents: config.ingest.lingerMaxEvents,
      redisMemoryHighPercent: config.ingest.redisMemoryHighPercent,
      logger,
      metrics,
    })
  }

  /** Connected and the events queues initialised: requests can be enqueued. */
  get ready(): boolean {
    return !this.closed && this.connection.status === 'ready' && this.queues !== undefined
  }

  /** Readiness: ready and Redis answers PING within the command timeout. */
  async ping(): Promise<boolean> {
    if (!this.ready) return false
    try {
      return (await this.connection.ping()) === 'PONG'
    } catch {
      return false
    }
  }

  /**
   * Dedupes `events` and adds one job per new event. Resolves only after Redis acknowledged the jobs
   * of every shard they go to; throws UnavailableError when Redis is not connected, fails, is full,
   * or takes longer than twice the command timeout (work still running then finishes on its own).
   */
  async enqueue(
    tenantId: string,
    events: readonly SegmentEvent[],
    receivedAt: string,
  ): Promise<EnqueueResult> {
    if (!this.ready || this.coalescers.length === 0) throw new UnavailableError()
    if (this.memory.full) {
      this.options.metrics.redisErrors.inc({ op: 'full' })
      throw new UnavailableError('full')
    }
    const started = process.hrtime.bigint()
    try {
      // Each shard's flush is bounded by twice the command timeout (`bounded`), so the whole enqueue
      // is by that plus the wait for the end of the turn: no timer per request.
      const result = await this.submit(tenantId, events, receivedAt)
      this.observe(started, 'ok')
      return result
    } catch (error) {
      this.observe(started, 'error')
      this.logRedisError(error)
      if (error instanceof UnavailableError) throw error
      throw new UnavailableError()
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retryTimer)
    this.memory.stop()
    for (const coalescer of this.coalescers) coalescer.flushNow()
    await Promise.all(this.inflight)
    await this.initializing?.catch(() => undefined)
    const queues = this.queues
    this.queues = undefined
    if (queues)
      await queues.close().catch((error: unknown) => this.log.warn({ err: error }, 'closing the queues'))
    if (this.connection.status === 'ready') {
      await Promise.race([
        this.connection.quit().catch(() => undefined),
        new Promise(resolve => setTimeout(resolve, 2000).unref()),
      ])
    }
    this.connection.disconnect()
    this.options.metrics.redisUp.set(0)
  }

  /** Splits `events` by shard, submits each part to its shard's coalescer, merges the answers. */
  private async submit(
    tenantId: string,
    events: readonly SegmentEvent[],
    receivedAt: string,
  ): Promise<EnqueueResult> {
    if (this.shards === 1) return this.coalescers[0]!.submit({ tenantId, events, receivedAt })
    const byShard = new Map<number, SegmentEvent[]>()
    for (const event of events) {
      const shard = shardOf(tenantId, routingKeyOf(event), this.shards)
      const list = byShard.get(shard)
      if (list) list.push(event)
      else byShard.set(shard, [event])
    }
    const parts = await Promise.allSettled(
      [...byShard].map(([shard, list]) =>
        this.coalescers[shard]!.submit({ tenantId, events: list, receivedAt }),
      ),
    )
    const result: EnqueueResult = { accepted: [], duplicates: [] }
    for (const part of parts) {
      if (part.status === 'rejected') throw part.reason
      result.accepted.push(...part.value.accepted)
      result.duplicates.push(...part.value.duplicates)
    }
    return result
  }

  /**
   * Tracks `work` (a flush, or its commit) so that close() waits for it, and bounds it by twice the
   * command timeout: past that it rejects with UnavailableError('timeout') (the work still running
   * then finishes on its own).
   */
  private bounded<T>(work: Promise<T>): Promise<T> {
    this.track(work)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError('timeout')), this.options.commandTimeoutMs * 2)
    })
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
  }

  /** close() waits for `work`; its failure is handled by whoever awaits it (never unhandled here). */
  private track(work: Promise<unknown>): void {
    const tracked = work.then(
      () => undefined,
      () => undefined,
    )
    this.inflight.add(tracked)
    void tracked.then(() => this.inflight.delete(tracked))
  }

  private observe(started: bigint, result: 'ok' | 'error'): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    this.options.metrics.enqueueSeconds.observe({ result }, seconds)
  }

  private initQueues(): void {
    if (this.queues !== undefined || this.initializing !== undefined || this.closed) return
    const { prefix, dedupeWindowMs, metrics } = this.options
    const queues = createEventsQueues(this.connection, prefix, this.shards)
    for (const { queue } of queues.list) queue.on('error', (error: Error) => this.logRedisError(error))
    this.initializing = Promise.all(queues.list.map(({ queue }) => queue.waitUntilReady()))
      .then(async () => {
        if (this.closed) {
          await queues.close()
          return
        }
        this.coalescers = queues.list.map(shard => {
          const writer: ShardWriterOptions = {
            connection: this.connection,
            prefix: shard.prefix,
            queue: shard.queue,
            dedupeWindowMs,
            metrics,
            log: this.log,
            background: work => this.track(work),
          }
          return new Coalescer<ShardRequest, EnqueueResult>({
            gather: (this.options.lingerMs ?? 0) > 0,
            maxItems: this.options.lingerMaxEvents ?? 500,
            size: request => request.events.length,
            flush: requests => this.bounded(writeShard(writer, requests)),
            onFlush: (requests, items) => {
              metrics.flushRequests.observe(requests)
              metrics.flushEvents.observe(items)
            },
          })
        })
        this.queues = queues
        metrics.redisUp.set(1)
        this.log.info({ prefix, shards: this.shards }, 'events queues ready')
      })
      .catch(async (error: unknown) => {
        this.log.warn({ err: error }, 'events queues could not initialise; retrying when Redis is back')
        await queues.close().catch(() => undefined)
      })
      .finally(() => {
        this.initializing = undefined
        // Redis may have come back while this attempt was failing: try again in a moment.
        if (this.queues === undefined && !this.closed) {
          this.retryTimer = setTimeout(() => {
            if (this.connection.status === 'ready') this.initQueues()
          }, 1000)
          this.retryTimer.unref()
        }
      })
  }

  private logRedisError(error: unknown): void {
    const now = Date.now()
    if (now - this.lastErrorLogAt < 10_000) return
    this.lastErrorLogAt = now
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error
    this.log.warn({ err: cause }, 'Redis error (the ingest answers 503 until Redis is back)')
  }
}
