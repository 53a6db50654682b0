import { eventKeys, type EventJobData, type EventsQueue, type RedisClient } from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import type { Logger } from '@ucd/logger'
import { UnavailableError } from './errors'
import type { IngestMetrics } from './metrics'
import type { EnqueueResult } from './producer-port'

/**
 * Marker values: `0` while the flush that set it is enqueueing, `1` once its job is in Redis.
 * Small integers, so Redis stores the value as a shared object (with `noeviction`): 138 bytes per
 * marker instead of 169 with a one-letter string (apps/bench).
 */
const PENDING = '0'
const COMMITTED = '1'
/** A pending marker outlives its flush only if the process dies mid-flush; it then expires. */
const PENDING_TTL_MS = 60_000

/**
 * Reserve: for each key, `SET key 0 PX ttl NX`; answers per key 1 (set: this flush owns it),
 * 2 (already committed: a duplicate) or 0 (another flush's pending marker). One command per flush
 * instead of two per event. Every key is under one shard's prefix (one hash tag: one cluster slot).
 */
export const RESERVE_LUA = `
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
export const COMMIT_LUA = `
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return #KEYS`

type MarkerCommands = {
  ucdReserveMarkers(numKeys: number, ...args: Array<string | number>): Promise<number[]>
  ucdCommitMarkers(numKeys: number, ...args: Array<string | number>): Promise<number>
}

/** Registers the marker scripts on `connection` (EVALSHA, with EVAL after a Redis restart). */
export function defineMarkerScripts(connection: RedisClient): void {
  connection.defineCommand('ucdReserveMarkers', { lua: RESERVE_LUA })
  connection.defineCommand('ucdCommitMarkers', { lua: COMMIT_LUA })
}

/** One request's events for one shard. */
export interface ShardRequest {
  readonly tenantId: string
  readonly events: readonly SegmentEvent[]
  readonly receivedAt: string
}

interface Item {
  readonly event: SegmentEvent
  readonly jobId: string
  readonly dedupeKey: string
  readonly tenantId: string
  readonly receivedAt: string
  /** Index of the request in the flush whose `accepted` gets this event. */
  readonly request: number
}

/** Most jobs per `addBulk` call (a MULTI of that many add scripts): the event-loop bound of issue 18. */
export const ADD_BULK_CHUNK = 100

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

/** Redis refused a write because it reached `maxmemory` (policy `noeviction`). */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && /\bOOM\b|maxmemory/i.test(error.message)
}

export interface ShardWriterOptions {
  connection: RedisClient
  /** The shard's key prefix (`shardPrefix`): its queue's BullMQ prefix and its markers' prefix. */
  prefix: string
  queue: EventsQueue
  /** messageId dedupe window; 0 turns dedupe off. */
  dedupeWindowMs: number
  metrics: IngestMetrics
  log: Logger
  /** Told of work left running after the answer (the commit), so that closing can wait for it. */
  background?: (work: Promise<void>) => void
}

/**
 * Writes the events of one or more requests to one shard with one reserve script, one `addBulk` and
 * one commit script, whatever the number of requests (the coalescer gathers them). All or nothing:
 * it resolves with each request's result once Redis acknowledged every job (the commit is sent then,
 * not waited for), or throws
 * UnavailableError and every request of the flush is answered 503 (the markers it set are deleted,
 * so a retry is not taken for a duplicate).
 *
 * Dedupe: a small marker per (tenant, messageId) with a TTL, never a retained job. The same
 * (tenant, messageId) twice in one flush, in one request or in two, is one job: the first occurrence
 * is accepted, the others are duplicates.
 */
export async function writeShard(
  options: ShardWriterOptions,
  requests: readonly ShardRequest[],
): Promise<EnqueueResult[]> {
  const { connection, prefix, queue, dedupeWindowMs, metrics } = options
  const results: EnqueueResult[] = requests.map(() => ({ accepted: [], duplicates: [] }))
  const seen = new Set<string>()
  const unique: Item[] = []
  requests.forEach(({ tenantId, events, receivedAt }, request) => {
    for (const event of events) {
      const keys = eventKeys(prefix, tenantId, event.messageId)
      if (seen.has(keys.dedupeKey)) results[request]!.duplicates.push(event)
      else {
        seen.add(keys.dedupeKey)
        unique.push({ event, tenantId, receivedAt, request, ...keys })
      }
    }
  })

  let toEnqueue = unique
  const owned: string[] = []
  if (dedupeWindowMs > 0 && unique.length > 0) {
    toEnqueue = []
    let states: number[]
    try {
      states = await (connection as unknown as MarkerCommands).ucdReserveMarkers(
        unique.length,
        ...unique.map(u => u.dedupeKey),
        PENDING,
        PENDING_TTL_MS,
        COMMITTED,
      )
    } catch (error) {
      metrics.redisErrors.inc({ op: 'reserve' })
      throw unavailable(error)
    }
    unique.forEach((item, i) => {
      const state = states[i]
      if (state === 1) {
        owned.push(item.dedupeKey)
        toEnqueue.push(item)
      } else if (state === 2) {
        results[item.request]!.duplicates.push(item.event)
      } else {
        // Another flush holds a pending marker (it may still fail): enqueue too; the job id makes
        // both one job while it waits.
        toEnqueue.push(item)
      }
    })
  }
  if (toEnqueue.length === 0) return results

  try {
    // At most ADD_BULK_CHUNK jobs per addBulk: building and serialising a maximal batch's jobs in one go
    // would hold the event loop (a 500-job addBulk held it 27-75 ms in a CPU profile, a 100-job one
    // holds it a few ms). The chunks are built one per turn of the event loop (other requests are
    // served between them) but not waited for one by one: they go out back to back and are awaited
    // together, so a flush of 500 events costs one round trip, not five. A failure part-way answers
    // 503: the chunks already stored are found by job id on the retry (one job each while waiting).
    let failure: { error: unknown } | undefined
    const chunks: Array<Promise<void>> = []
    for (let from = 0; from < toEnqueue.length; from += ADD_BULK_CHUNK) {
      if (from > 0) await nextTurn()
      const jobs = toEnqueue
        .slice(from, from + ADD_BULK_CHUNK)
        .map(({ event, jobId, tenantId, receivedAt }) => {
          const data: EventJobData = { tenantId, event, receivedAt }
          return { name: event.type, data, opts: { jobId } }
        })
      // Settled at once (no rejection left unhandled while the next chunk is built).
      chunks.push(
        queue.addBulk(jobs).then(
          () => undefined,
          (error: unknown) => {
            failure ??= { error }
          },
        ),
      )
    }
    await Promise.all(chunks)
    if (failure !== undefined) throw failure.error
  } catch (error) {
    metrics.redisErrors.inc({ op: 'enqueue' })
    if (owned.length > 0) {
      await connection.del(...owned).catch(() => metrics.redisErrors.inc({ op: 'rollback' }))
    }
    throw unavailable(error)
  }

  for (const item of toEnqueue) results[item.request]!.accepted.push(item.event)
  if (dedupeWindowMs > 0) {
    // The jobs are in Redis: from here on the answer is 200 whatever happens to the markers, so the
    // requests are answered without waiting for the commit (one round trip less per flush). It is
    // sent now, on the same connection, so any later reserve of these keys finds it done.
    const commit = (connection as unknown as MarkerCommands)
      .ucdCommitMarkers(toEnqueue.length, ...toEnqueue.map(item => item.dedupeKey), COMMITTED, dedupeWindowMs)
      .then(
        () => undefined,
        (error: unknown) => {
          metrics.redisErrors.inc({ op: 'commit' })
          options.log.warn(
            { err: error },
            'could not commit dedupe markers; a retry of these events may be enqueued twice',
          )
        },
      )
    options.background?.(commit)
  }
  return results
}

/** The 503 for a failed Redis command: `full` when Redis reached maxmemory, else `down`. */
function unavailable(error: unknown): UnavailableError {
  const result = new UnavailableError(isOutOfMemory(error) ? 'full' : 'down')
  result.cause = error
  return result
}
