import {
  createDeadLetterQueue,
  createRedisConnection,
  DeadLetterRecordSchema,
  deadLetterJobId,
  eventJobId,
  waitUntilReady,
  type DeadLetterQueue,
  type DeadLetterReason,
  type DeadLetterRecord,
  type EventsQueue,
} from '@ucd/queue'
import { testEvent } from '@ucd/segment/testing'
import type { Redis } from 'ioredis'
import { buildCli, type CliOptions } from '../cli'

export const NOW = new Date('2025-06-01T12:00:00.000Z')
export const minutesAgo = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString()

export interface RecordSpec {
  n: number
  tenantId?: string
  reason?: DeadLetterReason
  type?: 'track' | 'identify' | 'page' | 'group'
  userId?: string
  anonymousId?: string
  deadMinutesAgo?: number
  replays?: number
}

export function makeEvent(spec: RecordSpec): Record<string, unknown> {
  const fields = {
    messageId: `msg-${spec.n}`,
    ...(spec.anonymousId !== undefined ? { anonymousId: spec.anonymousId } : {}),
    ...(spec.userId !== undefined || spec.anonymousId === undefined
      ? { userId: spec.userId ?? `user-${spec.n}` }
      : {}),
    timestamp: minutesAgo(120),
    receivedAt: minutesAgo(120),
  }
  switch (spec.type ?? 'track') {
    case 'track':
      return testEvent('track', { ...fields, event: 'Order Completed', properties: { n: spec.n } })
    case 'identify':
      return testEvent('identify', { ...fields, traits: { email: `u${spec.n}@example.com` } })
    case 'page':
      return testEvent('page', { ...fields, name: 'Home' })
    case 'group':
      return testEvent('group', { ...fields, groupId: `company-${spec.n}` })
  }
}

export function makeRecord(spec: RecordSpec): DeadLetterRecord {
  const tenantId = spec.tenantId ?? 'acme'
  const reason = spec.reason ?? 'forbidden'
  const status = { forbidden: 403, unauthorized: 401, rejected: 422, exhausted: 503, invalid: undefined }[
    reason
  ]
  return DeadLetterRecordSchema.parse({
    tenantId,
    event: makeEvent(spec),
    reason,
    status,
    response: status ? `{"detail":"status ${status}"}` : undefined,
    error: { code: `UC_ERR_${reason.toUpperCase()}`, message: `refused (${reason})` },
    attempts: reason === 'exhausted' ? 12 : 1,
    firstAttemptAt: minutesAgo((spec.deadMinutesAgo ?? 10) + 1),
    deadAt: minutesAgo(spec.deadMinutesAgo ?? 10),
    sourceJobId: eventJobId(tenantId, `msg-${spec.n}`),
    receivedAt: minutesAgo(120),
    replays: spec.replays ?? 0,
  })
}

/** The id the worker gives a dead-letter job. */
export const dlqId = (record: DeadLetterRecord): string => deadLetterJobId(record.sourceJobId, record.replays)

/** Writes records through the real DLQ queue, as the worker does (name = reason, id = <source>-r<replays>). */
export async function seedDlq(queue: DeadLetterQueue, records: DeadLetterRecord[]): Promise<string[]> {
  await queue.addBulk(
    records.map(record => ({ name: record.reason, data: record, opts: { jobId: dlqId(record) } })),
  )
  return records.map(dlqId)
}

export async function connect(url: string): Promise<Redis> {
  const redis = createRedisConnection(url, 'producer')
  await waitUntilReady(redis)
  return redis
}

export function openDlq(redis: Redis, prefix: string): DeadLetterQueue {
  return createDeadLetterQueue(redis, prefix)
}

/**
 * Every key under `prefix:` with its type and full value (TTL left out), for before/after comparisons.
 * BullMQ's rate-limiter counter (`…:limiter`) is left out: it expires by itself within a second or so.
 */
export async function dumpPrefix(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    keys.push(...batch.filter(key => !key.endsWith(':limiter')))
  } while (cursor !== '0')
  const dump: Record<string, unknown> = {}
  for (const key of keys.sort()) {
    const type = await redis.type(key)
    switch (type) {
      case 'string':
        dump[key] = { type, value: await redis.get(key) }
        break
      case 'hash':
        dump[key] = { type, value: await redis.hgetall(key) }
        break
      case 'list':
        dump[key] = { type, value: await redis.lrange(key, 0, -1) }
        break
      case 'set':
        dump[key] = { type, value: (await redis.smembers(key)).sort() }
        break
      case 'zset':
        dump[key] = { type, value: await redis.zrange(key, '0', '-1', 'WITHSCORES') }
        break
      case 'stream':
        dump[key] = { type, value: await redis.xrange(key, '-', '+') }
        break
      default:
        dump[key] = { type }
    }
  }
  return dump
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in-process against `prefix`, capturing its output. */
export async function runCli(
  redisUrl: string,
  prefix: string,
  argv: string[],
  extra: Partial<CliOptions> = {},
): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const cli = buildCli({
    config: { redisUrl, queuePrefix: prefix },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    now: () => NOW,
    ...extra,
  })
  const code = await cli.run(argv)
  return { code, stdout, stderr }
}

/** The ids of the jobs waiting in the DLQ, sorted. */
export const waitingIds = async (dlq: DeadLetterQueue): Promise<string[]> =>
  (await dlq.getWaiting(0, -1)).map(j => j.id ?? '').sort()

/** The events job of a dead-lettered record: under the ingest's job id. */
export const eventsJobOf = (events: EventsQueue, record: DeadLetterRecord) =>
  events.getJob(eventJobId(record.tenantId, record.event.messageId as string))
