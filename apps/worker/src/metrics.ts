import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { DeadLetterQueue, EventsQueue } from '@ucd/queue'

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const

/** The queues of one consumed shard, as the metrics read them. */
export interface ShardQueues {
  readonly shard: number
  readonly events: EventsQueue
  readonly deadLetter: DeadLetterQueue
}

/**
 * A worker's Prometheus metrics, on its own registry (several workers can live in one test process).
 * The queue gauges cover every consumed shard (`queues.shards`, read at scrape time): summed in
 * `ucd_queue_jobs`, per shard in `ucd_queue_shard_jobs`.
 */
export function createWorkerMetrics(queues: { shards: readonly ShardQueues[] }) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'ucd_worker_process_' })

  const deliveries = new Counter({
    name: 'ucd_worker_deliveries_total',
    help: 'Events handled, by call type and outcome (delivered, skipped, dead_lettered, retried, paused)',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  })
  const usercomRequests = new Counter({
    name: 'ucd_usercom_requests_total',
    help: 'Requests to User.com by endpoint and status (HTTP status, or network/timeout)',
    labelNames: ['endpoint', 'status'] as const,
    registers: [registry],
  })
  const usercomLatency = new Histogram({
    name: 'ucd_usercom_request_duration_seconds',
    help: 'Latency of requests to User.com by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const retries = new Counter({
    name: 'ucd_worker_retries_total',
    help: 'Failed attempts that will be retried (retryable) or put back after a 429 pause (rate_limited)',
    labelNames: ['kind', 'code'] as const,
    registers: [registry],
  })
  const deferrals = new Counter({
    name: 'ucd_worker_deferrals_total',
    help: 'Deliveries put back for a moment without spending an attempt (a user lock taken, a tenant paused by a 429), by tenant',
    labelNames: ['why', 'tenant'] as const,
    registers: [registry],
  })
  const inDoubtSteps = new Counter({
    name: 'ucd_worker_in_doubt_steps_total',
    help: 'In-doubt event occurrences (an earlier attempt may have created them) looked up before sending, by outcome (found: not sent again; not_found: created) and tenant',
    labelNames: ['outcome', 'tenant'] as const,
    registers: [registry],
  })
  const deadLettered = new Counter({
    name: 'ucd_dlq_additions_total',
    help: 'Events added to the dead-letter queue, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const dropped = new Counter({
    name: 'ucd_worker_dropped_values_total',
    help: 'Trait or property values left out of a delivery (not convertible, too long, or stale: a newer event wrote them)',
    labelNames: ['type'] as const,
    registers: [registry],
  })
  const staleDropped = new Counter({
    name: 'ucd_worker_stale_dropped_total',
    help: 'Values not sent because a newer event already wrote them (per-user consistency), by tenant',
    labelNames: ['tenant'] as const,
    registers: [registry],
  })
  const identityMerges = new Counter({
    name: 'ucd_worker_identity_merges_total',
    help: 'Anonymous → identified merge steps by tenant and outcome (merged, nothing_to_merge, already_mapped, refused_conflict)',
    labelNames: ['tenant', 'outcome'] as const,
    registers: [registry],
  })
  const lag = new Histogram({
    name: 'ucd_delivery_lag_seconds',
    help: 'Time from ingest (receivedAt) to delivery to User.com',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400],
    registers: [registry],
  })
  const shardCounts = async () =>
    Promise.all(
      queues.shards.map(async ({ shard, events, deadLetter }) => {
        const [e, d] = await Promise.all([
          events.getJobCounts(...QUEUE_STATES),
          deadLetter.getJobCounts('waiting'),
        ])
        return { shard, events: e, deadLetter: d.waiting ?? 0 }
      }),
    )
  new Gauge({
    name: 'ucd_queue_jobs',
    help: 'Jobs per queue and state, summed over the shards this worker consumes (read from Redis at scrape time)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await shardCounts()
      for (const state of QUEUE_STATES)
        this.set(
          { queue: 'events', state },
          counts.reduce((sum, c) => sum + (c.events[state] ?? 0), 0),
        )
      this.set(
        { queue: 'dead-letter', state: 'waiting' },
        counts.reduce((sum, c) => sum + c.deadLetter, 0),
      )
    },
  })
  new Gauge({
    name: 'ucd_queue_shard_jobs',
    help: 'Events jobs waiting, active and delayed, and dead letters waiting, per consumed shard (QUEUE_SHARDS)',
    labelNames: ['shard', 'queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const c of await shardCounts()) {
        const shard = String(c.shard)
        for (const state of ['waiting', 'active', 'delayed'] as const)
          this.set({ shard, queue: 'events', state }, c.events[state] ?? 0)
        this.set({ shard, queue: 'dead-letter', state: 'waiting' }, c.deadLetter)
      }
    },
  })

  new Gauge({
    name: 'ucd_queue_paused',
    help: '1 when an events queue shard is paused, or held back by a 429 pause (rate limit TTL > 0)',
    labelNames: ['why'] as const,
    registers: [registry],
    async collect() {
      const states = await Promise.all(
        queues.shards.map(async ({ events }) => Promise.all([events.isPaused(), events.getRateLimitTtl()])),
      )
      this.set({ why: 'paused' }, states.some(([paused]) => paused) ? 1 : 0)
      this.set({ why: 'rate_limited' }, states.some(([, ttl]) => ttl > 0) ? 1 : 0)
    },
  })

  return {
    registry,
    deliveries,
    usercomRequests,
    usercomLatency,
    retries,
    deferrals,
    inDoubtSteps,
    deadLettered,
    dropped,
    staleDropped,
    identityMerges,
    lag,
  }
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>
