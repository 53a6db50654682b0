import {
  createDeadLetterQueue,
  createEventsQueue,
  createRedisConnection,
  DeadLetterRecordSchema,
  waitUntilReady,
  type DeadLetterQueue,
  type DeadLetterRecord,
  type EventsQueue,
} from '@ucd/queue'
import type { Job } from 'bullmq'
import type { Redis } from 'ioredis'
import { RedisUnreachableError, UnknownIdError } from './errors'
import { matchesFilter, type DlqFilter } from './filters'

export interface RedisTarget {
  readonly redisUrl: string
  readonly queuePrefix: string
}

export interface AdminQueues {
  readonly connection: Redis
  readonly events: EventsQueue
  readonly deadLetter: DeadLetterQueue
  readonly prefix: string
  close(): Promise<void>
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
  const connection = createRedisConnection(target.redisUrl, 'producer', {
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
      `Cannot reach Redis at ${redactUrl(target.redisUrl)} (REDIS_URL) within ${connectTimeoutMs / 1000} s` +
        `${why ? `: ${why}` : ''}.\n` +
        'Check that Redis is running and reachable from here, and that REDIS_URL points at it, with the ' +
        'password if it has one (redis://:password@host:6379, or rediss:// for TLS). QUEUE_PREFIX must match ' +
        'the workers and the ingest.',
    )
  }
  const prefix = target.queuePrefix
  const events = createEventsQueue(connection, prefix, { readOnly: true })
  const deadLetter = createDeadLetterQueue(connection, prefix, { readOnly: true })
  events.on('error', () => undefined)
  deadLetter.on('error', () => undefined)
  let closed = false
  return {
    connection,
    events,
    deadLetter,
    prefix,
    async close() {
      if (closed) return
      closed = true
      await Promise.allSettled([events.close(), deadLetter.close()])
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
      readonly job: DlqJob
      readonly record: DeadLetterRecord
      readonly problem?: undefined
    }
  | { readonly id: string; readonly job: DlqJob; readonly record?: undefined; readonly problem: string }

export function toEntry(job: DlqJob): DlqEntry {
  const id = job.id ?? ''
  const parsed = DeadLetterRecordSchema.safeParse(job.data)
  if (parsed.success) return { id, job, record: job.data }
  const where = parsed.error.issues
    .slice(0, 3)
    .map(issue => `${issue.path.join('.') || '(data)'}: ${issue.message}`)
    .join('; ')
  return { id, job, problem: `data does not match the dead-letter record schema (${where})` }
}

export const DEFAULT_CHUNK = 500

/**
 * Every DLQ job, oldest first, `chunk` at a time (ids, then the jobs of those ids), so a DLQ of
 * 100k records never sits in memory at once. Records added while it runs may or may not be seen.
 */
export async function* scanDlq(queue: DeadLetterQueue, chunk = DEFAULT_CHUNK): AsyncGenerator<DlqEntry> {
  const seen = new Set<string>()
  for (const state of RECORD_STATES) {
    for (let start = 0; ; start += chunk) {
      const ids = await queue.getRanges([state], start, start + chunk - 1, true)
      if (ids.length === 0) break
      const jobs = await Promise.all(ids.map(id => queue.getJob(id)))
      for (const job of jobs) {
        if (!job?.id || seen.has(job.id)) continue
        seen.add(job.id)
        yield toEntry(job)
      }
      if (ids.length < chunk) break
    }
  }
}

/** The DLQ jobs with these ids, in the order given; throws UnknownIdError naming every missing one. */
export async function getEntries(queue: DeadLetterQueue, ids: readonly string[]): Promise<DlqEntry[]> {
  const unique = [...new Set(ids)]
  const entries: DlqEntry[] = []
  const missing: string[] = []
  for (let i = 0; i < unique.length; i += DEFAULT_CHUNK) {
    const slice = unique.slice(i, i + DEFAULT_CHUNK)
    const jobs = await Promise.all(slice.map(id => queue.getJob(id)))
    jobs.forEach((job, k) => {
      if (job) entries.push(toEntry(job))
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

/** The records a selection picks, oldest first (or in the order of the ids given), streamed. */
export async function* selectEntries(
  queue: DeadLetterQueue,
  selection: Selection,
  callbacks: SelectCallbacks = {},
): AsyncGenerator<DlqEntry & { record: DeadLetterRecord }> {
  const source: AsyncIterable<DlqEntry> | Iterable<DlqEntry> = selection.ids
    ? await getEntries(queue, selection.ids)
    : scanDlq(queue)
  let count = 0
  for await (const entry of source) {
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
