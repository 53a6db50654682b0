import { DEAD_LETTER_QUEUE, EVENTS_QUEUE } from '@ucd/queue'
import { scanDlq, type AdminQueues, type AdminShard } from './store'

export const EVENT_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'paused'] as const
export const DLQ_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed'] as const

export interface QueueStats {
  prefix: string
  events: {
    queue: string
    /**
     * Jobs per state. BullMQ 6 keeps a paused queue's jobs in its wait list (pausing only sets a
     * flag); as in earlier BullMQ, they count as `paused` (not `waiting`) while the queue is paused.
     */
    counts: Record<(typeof EVENT_STATES)[number], number>
    /** Age of the oldest job in the wait list, ms; null when none waits. */
    oldestWaitingAgeMs: number | null
    oldestWaitingAt: string | null
    /** Worker connections on the events queue (BullMQ names them; CLIENT LIST). */
    workers: number
    paused: boolean
    rateLimited: boolean
    /** Time left on the queue's rate limit (a 429 pause), ms; 0 when none. */
    rateLimitTtlMs: number
  }
  deadLetter: {
    queue: string
    total: number
    counts: Record<(typeof DLQ_STATES)[number], number>
    byReason: Record<string, number>
    byTenant: Record<string, number>
    /** Jobs in the DLQ whose data is not a valid record. */
    invalid: number
    oldestDeadAt: string | null
  }
  /** Per shard of the events queue (QUEUE_SHARDS; one entry, shard 0, with one shard). */
  shards: {
    shard: number
    prefix: string
    events: Record<(typeof EVENT_STATES)[number], number>
    deadLetter: number
  }[]
}

function increment(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1
}

function sortedByCount(map: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
}

async function oldestWaiting(queues: AdminShard): Promise<number | undefined> {
  const [id] = await queues.events.getRanges(['waiting'], 0, 0, true)
  if (id === undefined) return undefined
  const job = await queues.events.getJob(id)
  return job?.timestamp
}

/** Counts, ages and flags of both queues; the DLQ breakdown reads every record, a chunk at a time. */
export async function collectStats(queues: AdminQueues, now: Date): Promise<QueueStats> {
  const pick = <K extends string>(states: readonly K[], counts: Record<string, number>): Record<K, number> =>
    Object.fromEntries(states.map(state => [state, counts[state] ?? 0])) as Record<K, number>
  const perShard = await Promise.all(
    queues.shards.map(async shard => {
      const [eventCounts, dlqCounts, oldest, workers, paused, ttl] = await Promise.all([
        shard.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed'),
        shard.deadLetter.getJobCounts(...DLQ_STATES),
        oldestWaiting(shard),
        shard.events.getWorkersCount(),
        shard.events.isPaused(),
        shard.events.getRateLimitTtl(),
      ])
      const events = pick(
        EVENT_STATES,
        paused
          ? { ...eventCounts, waiting: 0, paused: eventCounts.waiting ?? 0 }
          : { ...eventCounts, paused: 0 },
      )
      return { shard, events, dlq: pick(DLQ_STATES, dlqCounts), oldest, workers, paused, ttl }
    }),
  )
  const sum = <K extends string>(
    states: readonly K[],
    of: (s: (typeof perShard)[number]) => Record<K, number>,
  ) =>
    Object.fromEntries(
      states.map(state => [state, perShard.reduce((total, s) => total + of(s)[state], 0)]),
    ) as Record<K, number>
  const oldests = perShard.map(s => s.oldest).filter((at): at is number => at !== undefined)
  const oldest = oldests.length === 0 ? undefined : Math.min(...oldests)
  // Each worker process has one BullMQ Worker per shard it consumes: the busiest shard's count.
  const workers = Math.max(0, ...perShard.map(s => s.workers))
  const paused = perShard.some(s => s.paused)
  const ttl = Math.max(0, ...perShard.map(s => s.ttl))
  const byReason: Record<string, number> = {}
  const byTenant: Record<string, number> = {}
  let invalid = 0
  let oldestDeadAt: number | undefined
  for await (const entry of scanDlq(queues)) {
    if (entry.record === undefined) {
      invalid += 1
      continue
    }
    increment(byReason, entry.record.reason)
    increment(byTenant, entry.record.tenantId)
    const deadAt = Date.parse(entry.record.deadAt)
    if (oldestDeadAt === undefined || deadAt < oldestDeadAt) oldestDeadAt = deadAt
  }
  const dlq = sum(DLQ_STATES, s => s.dlq)
  return {
    prefix: queues.prefix,
    events: {
      queue: EVENTS_QUEUE,
      counts: sum(EVENT_STATES, s => s.events),
      oldestWaitingAgeMs: oldest === undefined ? null : Math.max(0, now.getTime() - oldest),
      oldestWaitingAt: oldest === undefined ? null : new Date(oldest).toISOString(),
      workers,
      paused,
      rateLimited: ttl > 0,
      rateLimitTtlMs: Math.max(0, ttl),
    },
    deadLetter: {
      queue: DEAD_LETTER_QUEUE,
      total: Object.values(dlq).reduce((sum, n) => sum + n, 0),
      counts: dlq,
      byReason: sortedByCount(byReason),
      byTenant: sortedByCount(byTenant),
      invalid,
      oldestDeadAt: oldestDeadAt === undefined ? null : new Date(oldestDeadAt).toISOString(),
    },
    shards: perShard.map(s => ({
      shard: s.shard.shard,
      prefix: s.shard.prefix,
      events: s.events,
      deadLetter: Object.values(s.dlq).reduce((total, n) => total + n, 0),
    })),
  }
}
