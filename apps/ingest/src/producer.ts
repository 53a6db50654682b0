import type { Config } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import {
  createEventsQueue,
  createRedisConnection,
  eventKeys,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import type { Redis } from 'ioredis'
import { UnavailableError } from './errors'
import type { IngestMetrics } from './metrics'
import type { EnqueueResult, IngestProducer } from './producer-port'

/**
 * Marker values: `0` while the request that set it is enqueueing, `1` once its job is in Redis.
 * Small integers, so Redis stores the value as a shared object (with `noeviction`): 138 bytes per
 * marker instead of 169 with a one-letter string (apps/bench).
 */
const PENDING = '0'
const COMMITTED = '1'
/** A pending marker outlives its request only if the process dies mid-request; it then expires. */
const PENDING_TTL_MS = 60_000

/**
 * Reserve: for each key, `SET key 0 PX ttl NX`; answers per key 1 (set: this request owns it),
 * 2 (already committed: a duplicate) or 0 (another request's pending marker). One command per
 * request instead of two per event: the dedupe used to cost more CPU than the enqueue itself.
 */
const RESERVE_LUA = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'PX', ARGV[2], 'NX') then
    out[i] = 1
  elseif redis.call('GET', key) == ARGV[3] then
    out[i] = 2
  else
    out[i] = 0
  end
end
return out`

/** Commit: `SET key 1 PX window` for each key, in one command. */
const COMMIT_LUA = `
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return #KEYS`

type MarkerCommands = {
  ucdReserveMarkers(numKeys: number, ...args: Array<string | number>): Promise<number[]>
  ucdCommitMarkers(numKeys: number, ...args: Array<string | number>): Promise<number>
}

export interface EventProducerOptions {
  redisUrl: string
  /** BullMQ prefix of the events queue, also the prefix of the dedupe markers. */
  prefix: string
  /** Bound on each Redis command; the whole enqueue of a request is bounded by twice this. */
  commandTimeoutMs: number
  /** messageId dedupe window; 0 turns dedupe off. */
  dedupeWindowMs: number
  logger: Logger
  metrics: IngestMetrics
}

/**
 * Owns the ingest's one Redis connection (a fail-fast producer connection: no offline queue, bounded
 * commands, reconnecting in the background) and the events queue on it. The queue is created once
 * the connection is first ready, so the ingest starts, and answers 503, while Redis is down.
 *
 * Dedupe: a small marker per (tenant, messageId) with a TTL, never a retained job. A request reserves
 * the markers of its events (`SET NX PX`, value `0`, one Lua script for all of them), adds the jobs
 * with one `addBulk`, then commits the markers (`1`, TTL = the window, one script again). Only a
 * committed marker makes a later event a duplicate, so a marker left behind by a failed or interrupted request never hides an event that was not enqueued;
 * if `addBulk` fails, the markers this request set are deleted.
 */
export class EventProducer implements IngestProducer {
  readonly connection: Redis
  private readonly markers: MarkerCommands
  private queue: EventsQueue | undefined
  private initializing: Promise<void> | undefined
  private closed = false
  private lastErrorLogAt = 0
  private retryTimer: NodeJS.Timeout | undefined
  private readonly inflight = new Set<Promise<void>>()
  private readonly options: EventProducerOptions
  private readonly log: Logger

  constructor(options: EventProducerOptions) {
    this.options = options
    this.log = options.logger.child({ component: 'redis' })
    this.connection = createRedisConnection(options.redisUrl, 'producer', {
      commandTimeoutMs: options.commandTimeoutMs,
      connectionName: 'ucd-ingest',
    })
    // EVALSHA, with EVAL when Redis does not know the script yet (after a restart).
    this.connection.defineCommand('ucdReserveMarkers', { lua: RESERVE_LUA })
    this.connection.defineCommand('ucdCommitMarkers', { lua: COMMIT_LUA })
    this.markers = this.connection as unknown as MarkerCommands
    this.connection.on('error', (error: Error) => this.logRedisError(error))
    this.connection.on('ready', () => {
      this.log.info('Redis connection ready')
      if (this.queue) this.options.metrics.redisUp.set(1)
      else this.initQueue()
    })
    this.connection.on('close', () => {
      this.options.metrics.redisUp.set(0)
    })
    this.options.metrics.redisUp.set(0)
  }

  /** The producer the ingest's settings describe (REDIS_URL, QUEUE_PREFIX, INGEST_REDIS_TIMEOUT_MS, DEDUPE_WINDOW_MINUTES). */
  static fromConfig(config: Config, logger: Logger, metrics: IngestMetrics): EventProducer {
    return new EventProducer({
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      commandTimeoutMs: config.ingest.redisTimeoutMs,
      dedupeWindowMs: config.ingest.dedupeWindowMinutes * 60_000,
      logger,
      metrics,
    })
  }

  /** Connected and the events queue initialised: requests can be enqueued. */
  get ready(): boolean {
    return !this.closed && this.connection.status === 'ready' && this.queue !== undefined
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
   * Dedupes `events` and adds one job per new event with one `addBulk`. Resolves only after Redis
   * acknowledged the jobs; throws UnavailableError when Redis is not connected, fails, or takes longer
   * than twice the command timeout (work still running then finishes or cleans up on its own).
   */
  async enqueue(
    tenantId: string,
    events: readonly SegmentEvent[],
    receivedAt: string,
  ): Promise<EnqueueResult> {
    const queue = this.queue
    if (!this.ready || queue === undefined) throw new UnavailableError()
    const started = process.hrtime.bigint()
    const work = this.enqueueOn(queue, tenantId, events, receivedAt)
    // close() waits for these, so shutting down never cuts an enqueue in half.
    const tracked = work.then(
      () => undefined,
      () => undefined,
    )
    this.inflight.add(tracked)
    void tracked.then(() => this.inflight.delete(tracked))
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError('timeout')), this.options.commandTimeoutMs * 2)
    })
    try {
      const result = await Promise.race([work, deadline])
      this.observe(started, 'ok')
      return result
    } catch (error) {
      this.observe(started, 'error')
      // The loser of the race must not become an unhandled rejection.
      work.catch(() => undefined)
      if (error instanceof UnavailableError) throw error
      throw new UnavailableError()
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retryTimer)
    await Promise.all(this.inflight)
    await this.initializing?.catch(() => undefined)
    const queue = this.queue
    this.queue = undefined
    if (queue)
      await queue.close().catch((error: unknown) => this.log.warn({ err: error }, 'closing the queue'))
    if (this.connection.status === 'ready') {
      await Promise.race([
        this.connection.quit().catch(() => undefined),
        new Promise(resolve => setTimeout(resolve, 2000).unref()),
      ])
    }
    this.connection.disconnect()
    this.options.metrics.redisUp.set(0)
  }

  private observe(started: bigint, result: 'ok' | 'error'): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    this.options.metrics.enqueueSeconds.observe({ result }, seconds)
  }

  private async enqueueOn(
    queue: EventsQueue,
    tenantId: string,
    events: readonly SegmentEvent[],
    receivedAt: string,
  ): Promise<EnqueueResult> {
    const { prefix, dedupeWindowMs } = this.options
    // The same messageId twice in one request is one job (same job id) and one duplicate.
    const seen = new Set<string>()
    const unique: Array<{ event: SegmentEvent; jobId: string; dedupeKey: string }> = []
    const duplicates: SegmentEvent[] = []
    for (const event of events) {
      if (seen.has(event.messageId)) duplicates.push(event)
      else {
        seen.add(event.messageId)
        unique.push({ event, ...eventKeys(prefix, tenantId, event.messageId) })
      }
    }

    let toEnqueue = unique
    const owned: string[] = []
    if (dedupeWindowMs > 0 && unique.length > 0) {
      toEnqueue = []
      let states: number[]
      try {
        states = await this.markers.ucdReserveMarkers(
          unique.length,
          ...unique.map(u => u.dedupeKey),
          PENDING,
          PENDING_TTL_MS,
          COMMITTED,
        )
      } catch (error) {
        this.options.metrics.redisErrors.inc({ op: 'reserve' })
        throw error
      }
      unique.forEach((item, i) => {
        const state = states[i]
        if (state === 1) {
          owned.push(item.dedupeKey)
          toEnqueue.push(item)
        } else if (state === 2) {
          duplicates.push(item.event)
        } else {
          // Another request holds a pending marker (it may still fail): enqueue too; the job id
          // makes both one job while it waits.
          toEnqueue.push(item)
        }
      })
    }
    if (toEnqueue.length === 0) return { accepted: [], duplicates }

    try {
      await queue.addBulk(
        toEnqueue.map(({ event, jobId }) => {
          const data: EventJobData = { tenantId, event, receivedAt }
          return { name: event.type, data, opts: { jobId } }
        }),
      )
    } catch (error) {
      this.options.metrics.redisErrors.inc({ op: 'enqueue' })
      this.logRedisError(error)
      if (owned.length > 0) {
        await this.connection
          .del(...owned)
          .catch(() => this.options.metrics.redisErrors.inc({ op: 'rollback' }))
      }
      throw new UnavailableError()
    }

    const accepted = toEnqueue.map(item => item.event)
    if (dedupeWindowMs > 0) {
      // The jobs are in Redis: from here on the answer is 200 whatever happens to the markers.
      try {
        await this.markers.ucdCommitMarkers(
          toEnqueue.length,
          ...toEnqueue.map(item => item.dedupeKey),
          COMMITTED,
          dedupeWindowMs,
        )
      } catch (error) {
        this.options.metrics.redisErrors.inc({ op: 'commit' })
        this.log.warn(
          { err: error },
          'could not commit dedupe markers; a retry of these events may be enqueued twice',
        )
      }
    }
    return { accepted, duplicates }
  }

  private initQueue(): void {
    if (this.queue !== undefined || this.initializing !== undefined || this.closed) return
    const queue = createEventsQueue(this.connection, this.options.prefix)
    queue.on('error', (error: Error) => this.logRedisError(error))
    this.initializing = queue
      .waitUntilReady()
      .then(async () => {
        if (this.closed) {
          await queue.close()
          return
        }
        this.queue = queue
        this.options.metrics.redisUp.set(1)
        this.log.info({ prefix: this.options.prefix }, 'events queue ready')
      })
      .catch(async (error: unknown) => {
        this.log.warn({ err: error }, 'events queue could not initialise; retrying when Redis is back')
        await queue.close().catch(() => undefined)
      })
      .finally(() => {
        this.initializing = undefined
        // Redis may have come back while this attempt was failing: try again in a moment.
        if (this.queue === undefined && !this.closed) {
          this.retryTimer = setTimeout(() => {
            if (this.connection.status === 'ready') this.initQueue()
          }, 1000)
          this.retryTimer.unref()
        }
      })
  }

  private logRedisError(error: unknown): void {
    const now = Date.now()
    if (now - this.lastErrorLogAt < 10_000) return
    this.lastErrorLogAt = now
    this.log.warn({ err: error }, 'Redis error (the ingest answers 503 until Redis is back)')
  }
}
