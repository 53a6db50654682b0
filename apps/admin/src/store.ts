import {
  createDeadLetterQueue,
  createEventsQueue,
  createRedisConnection,
  DeadLetterRecordSchema,
  routingKeyOf,
  shardOf,
  shardsOf,
  waitUntilReady,
  type DeadLetterQueue,
  type DeadLetterRecord,
  type EventsQueue,
  type RedisClient,
  type RedisTarget as ConnectionTarget,
} from '@ucd/queue'
import type { Job } from 'bullmq'
import { RedisUnreachableError, UnknownIdError } from './errors'
import { matchesFilter, type DlqFilter } from './filters'

/** Where the queues are: the fields of `Config` the CLI uses (`redis` and `queueShards` optional). */
export interface RedisTarget {
  readonly redisUrl: string
  readonly queuePrefix: string
  /** `config.redis` (one server or a cluster); default: `redisUrl`. */
  readonly redis?: ConnectionTarget
  /** QUEUE_SHARDS (default 1). */
  readonly queueShards?: number
}

/** One shard's two queues (with QUEUE_SHARDS=1, the only shard: prefix = QUEUE_PREFIX). */
export interface AdminShard {
  readonly shard: number
  readonly prefix: string
  readonly events: EventsQueue
  readonly deadLetter: DeadLetterQueue
}

export interface AdminQueues {
  readonly connection: RedisClient
  /** Every shard, ascending: every command reads and writes across all of them. */
  readonly shards: readonly AdminShard[]
  /** QUEUE_PREFIX (the shards' prefixes are in `shards`). */
  readonly prefix: string
  /** The shard an event of `tenantId` belongs to (where a replay or an import puts it). */
  shardFor(tenantId: string, event: unknown): AdminShard
  close(): Promise<void>
}

/** Where the target points, for messages (the password left out). */
function describeTarget(target: RedisTarget): string {
  const redis = target.redis
  if (redis === undefined || redis.kind === 'single')
    return `Redis at ${redactUrl(redis?.url ?? target.redisUrl)} (REDIS_URL)`
  return `the Redis Cluster at ${redis.nodes.map(n => `${n.host}:${n.port}`).join(',')} (REDIS_CLUSTER_NODES)`
}

/** A Redis URL with its password replaced (in the user info or as ioredis' `?password=`), for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
    return parsed.toString()
  } catch {
    return '<unparseable REDIS_URL>'
  }
}

/**
 * Connects (failing within `connectTimeoutMs` with a message that names the URL, without its
 * password, and says how to fix it) and opens the two queues. The queues skip BullMQ's meta
 * update on open, so read-only commands (list, show, stats, dry runs) write nothing to Redis.
 */
export async function openQueues(
  target: RedisTarget,
  options: { connectTimeoutMs?: number; commandTimeoutMs?: number } = {},
): Promise<AdminQueues> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000
  // A short disconnectTimeout: after a refused connection the CLI should exit at once.
  const connection = createRedisConnection(target.redis ?? target.redisUrl, 'producer', {
    connectionName: 'ucd-admin',
    lazyConnect: true,
    commandTimeoutMs: options.commandTimeoutMs ?? 30_000,
    disconnectTimeoutMs: 100,
  })
  // Errors surface as rejected commands; without a listener ioredis would print every reconnect error.
  connection.on('error', () => undefined)
  try {
    await waitUntilReady(connection, connectTimeoutMs)
  } catch (error) {
    connection.disconnect()
    // The last connection error, if any (waitUntilReady's own message only adds the timeout).
    const cause = error instanceof Error ? error.cause : undefined
    const why = cause instanceof Error ? cause.message : ''
    throw new RedisUnreachableError(
      `Cannot reach ${describeTarget(target)} within ${connectTimeoutMs / 1000} s` +
        `${why ? `: ${why}` : ''}.\n` +
        'Check that Redis is running and reachable from here, and that REDIS_URL points at it, with the ' +
        'password if it has one (redis://:password@host:6379, or rediss:// for TLS). QUEUE_PREFIX must match ' +
        'the workers and the ingest.',
    )
  }
  const prefix = target.queuePrefix
  const count = target.queueShards ?? 1
  const shards: AdminShard[] = shardsOf(prefix, count).map(({ shard, prefix: shardPrefix }) => {
    const events = createEventsQueue(connection, shardPrefix, { readOnly: true })
    const deadLetter = createDeadLetterQueue(connection, shardPrefix, { readOnly: true })
    events.on('error', () => undefined)
    deadLetter.on('error', () => undefined)
    return { shard, prefix: shardPrefix, events, deadLetter }
  })
  let closed = false
  return {
    connection,
    shards,
    prefix,
    shardFor(tenantId, event) {
      const ids = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {}
      const key = routingKeyOf({
        userId: typeof ids.userId === 'string' ? ids.userId : undefined,
        anonymousId: typeof ids.anonymousId === 'string' ? ids.anonymousId : undefined,
      })
      return shards[shardOf(tenantId, key, count)]!
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.allSettled(shards.flatMap(s => [s.events.close(), s.deadLetter.close()]))
      if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect())
      else connection.disconnect()
    },
  }
}

/** States a dead-letter record can be in. With no worker on the DLQ they wait; the rest is for safety. */
export const RECORD_STATES = ['waiting', 'prioritized', 'delayed', 'failed', 'completed'] as const

export type DlqJob = Job<DeadLetterRecord, unknown, string>

/** One DLQ job, with its record when the data matches DeadLetterRecordSchema. */
export type DlqEntry =
  | {
      readonly id: string
      readonly shard: AdminShard
      readonly job: DlqJob
      readonly record: DeadLetterRecord
      readonly problem?: undefined
    }
  | {
      readonly id: string
      readonly shard: AdminShard
      readonly job: DlqJob
      readonly record?: undefined
      readonly problem: string
    }

/** The entry of a DLQ job of `shard`. */
export function toEntry(job: DlqJob, shard: AdminShard): DlqEntry {
  const id = job.id ?? ''
  const parsed = DeadLetterRecordSchema.safeParse(job.data)
  if (parsed.success) return { id, shard, job, record: job.data }
  const where = parsed.error.issues
    .slice(0, 3)
    .map(issue => `${issue.path.join('.') || '(data)'}: ${issue.message}`)
    .join('; ')
  return { id, shard, job, problem: `data does not match the dead-letter record schema (${where})` }
}

export const DEFAULT_CHUNK = 500

/** What the DLQ readers scan: every shard of `openQueues`. */
export type DlqSource = Pick<AdminQueues, 'shards'>

/**
 * Every DLQ job, shard by shard, oldest first within a shard, `chunk` at a time (ids, then the jobs
 * of those ids), so a DLQ of 100k records never sits in memory at once. Records added while it runs
 * may or may not be seen.
 */
export async function* scanDlq(source: DlqSource, chunk = DEFAULT_CHUNK): AsyncGenerator<DlqEntry> {
  for (const shard of source.shards) yield* scanShard(shard, chunk)
}

async function* scanShard(shard: AdminShard, chunk: number): AsyncGenerator<DlqEntry> {
  const queue = shard.deadLetter
  const seen = new Set<string>()
  for (const state of RECORD_STATES) {
    for (let start = 0; ; start += chunk) {
      const ids = await queue.getRanges([state], start, start + chunk - 1, true)
      if (ids.length === 0) break
      const jobs = await Promise.all(ids.map(id => queue.getJob(id)))
      for (const job of jobs) {
        if (!job?.id || seen.has(job.id)) continue
        seen.add(job.id)
        yield toEntry(job, shard)
      }
      if (ids.length < chunk) break
    }
  }
}

/** The DLQ job with this id, in whichever shard holds it (ids are unique across shards), or undefined. */
export async function findEntry(source: DlqSource, id: string): Promise<DlqEntry | undefined> {
  for (const shard of source.shards) {
    const job = await shard.deadLetter.getJob(id)
    if (job) return toEntry(job, shard)
  }
  return undefined
}

/** The DLQ jobs with these ids, in the order given; throws UnknownIdError naming every missing one. */
export async function getEntries(source: DlqSource, ids: readonly string[]): Promise<DlqEntry[]> {
  const unique = [...new Set(ids)]
  const entries: DlqEntry[] = []
  const missing: string[] = []
  for (let i = 0; i < unique.length; i += DEFAULT_CHUNK) {
    const slice = unique.slice(i, i + DEFAULT_CHUNK)
    const found = await Promise.all(slice.map(id => findEntry(source, id)))
    found.forEach((entry, k) => {
      if (entry) entries.push(entry)
      else missing.push(slice[k] ?? '')
    })
  }
  if (missing.length > 0) throw new UnknownIdError(missing)
  return entries
}

export interface Selection {
  /** Explicit ids (all must exist), else every record. */
  ids?: readonly string[]
  filter: DlqFilter
  /** Stop after this many matches. */
  limit?: number
}

export interface SelectCallbacks {
  /** A job whose data is not a valid record (never matches a filter). */
  onInvalid?: (entry: DlqEntry & { problem: string }) => void
}

/** The records a selection picks, shard by shard, oldest first in each (or in the order of the ids given), streamed. */
export async function* selectEntries(
  source: DlqSource,
  selection: Selection,
  callbacks: SelectCallbacks = {},
): AsyncGenerator<DlqEntry & { record: DeadLetterRecord }> {
  const entries: AsyncIterable<DlqEntry> | Iterable<DlqEntry> = selection.ids
    ? await getEntries(source, selection.ids)
    : scanDlq(source)
  let count = 0
  for await (const entry of entries) {
    if (selection.limit !== undefined && count >= selection.limit) return
    if (entry.record === undefined) {
      callbacks.onInvalid?.(entry)
      continue
    }
    if (!matchesFilter(entry.record, selection.filter)) continue
    count += 1
    yield entry
  }
}
