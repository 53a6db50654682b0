import { Redis } from 'ioredis'
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

/**
 * Commit: for each of the n markers (KEYS[1..n]) whose job (KEYS[n+i]) exists, `SET marker 1 PX window`.
 * It goes out in the same write as the flush's adds, so it runs right after them: a marker whose add
 * failed stays pending (the flush deletes it, or it expires) and a retry of that event is not taken
 * for a duplicate.
 */
export const COMMIT_LUA = `
local n = #KEYS / 2
local committed = 0
for i = 1, n do
  if redis.call('EXISTS', KEYS[n + i]) == 1 then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    committed = committed + 1
  end
end
return committed`

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

/** Most jobs built and sent in one turn of the event loop: the event-loop bound of issue 18. */
export const ADD_CHUNK = 100

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

/**
 * Runs `send`, then `after` on the next turn of the event loop, holding the connection's socket writes
 * until then: the commands `send` issues (BullMQ issues them in microtasks) and those of `after` leave
 * in one write, in that order. On a Cluster (a socket per node) nothing is held; the order is the same.
 */
function corked<T>(connection: RedisClient, send: () => T, after?: () => void): T {
  const stream = connection instanceof Redis && !connection.stream.destroyed ? connection.stream : undefined
  stream?.cork()
  try {
    return send()
  } finally {
    setImmediate(() => {
      after?.()
      stream?.uncork()
    })
  }
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
 * Writes the events of one or more requests to one shard in two round trips whatever the number of
 * requests (the coalescer gathers them): one reserve script, then the jobs' adds and the commit script
 * in one socket write. All or nothing: it resolves with each request's result once Redis acknowledged
 * every job (the commit is not waited for), or throws UnavailableError and every request of the flush
 * is answered 503 (the markers it set are deleted, so a retry is not taken for a duplicate).
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

  // The dedupe commit goes out in the same write as the last adds (see COMMIT_LUA) and is not waited
  // for: once the jobs are stored the answer is 200 whatever happens to the markers.
  const commit = (): void => {
    if (dedupeWindowMs <= 0) return
    const markers = toEnqueue.map(item => item.dedupeKey)
    const jobKeys = toEnqueue.map(item => queue.toKey(item.jobId))
    const work = (connection as unknown as MarkerCommands)
      .ucdCommitMarkers(markers.length * 2, ...markers, ...jobKeys, COMMITTED, dedupeWindowMs)
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
    options.background?.(work)
  }

  try {
    // At most ADD_CHUNK jobs per chunk: building and serialising a maximal batch's jobs in one go
    // would hold the event loop (a 500-job addBulk held it 27-75 ms in a CPU profile, a 100-job chunk
    // a few ms). The chunks are built one per turn of the event loop (other requests are served between
    // them) but not waited for one by one: they go out back to back and are awaited together, so a
    // flush of 500 events costs one round trip, not five. A failure part-way answers 503: the chunks
    // already stored are found by job id on the retry (one job each while waiting).
    //
    // Each job is one `add`, never an `addBulk`: the commands are the same (an `addBulk` is a pipeline,
    // not a MULTI) and the chunk's commands leave in one socket write either way (`corked`), but ioredis
    // builds each pipeline by copying every script BullMQ defined (64) onto it, and a pipeline holds
    // all its commands until the last answer. Measured in the ingest (apps/ingest README, "Performance
    // (issue 20)", third round): with `addBulk` from 16 jobs on, less CPU neither for browser events
    // nor for 100-event batches, and more garbage promoted to the old generation.
    let failure: { error: unknown } | undefined
    const chunks: Array<Promise<void>> = []
    for (let from = 0; from < toEnqueue.length; from += ADD_CHUNK) {
      if (from > 0) await nextTurn()
      const chunk = toEnqueue.slice(from, from + ADD_CHUNK)
      const last = from + ADD_CHUNK >= toEnqueue.length
      const jobs = chunk.map(({ event, jobId, tenantId, receivedAt }) => {
        const data: EventJobData = { tenantId, event, receivedAt }
        return { name: event.type, data, opts: { jobId } }
      })
      const added = corked(
        connection,
        (): Promise<unknown> => Promise.all(jobs.map(job => queue.add(job.name, job.data, job.opts))),
        last ? commit : undefined,
      )
      // Settled at once (no rejection left unhandled while the next chunk is built).
      chunks.push(
        added.then(
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
  return results
}

/** The 503 for a failed Redis command: `full` when Redis reached maxmemory, else `down`. */
function unavailable(error: unknown): UnavailableError {
  const result = new UnavailableError(isOutOfMemory(error) ? 'full' : 'down')
  result.cause = error
  return result
}
