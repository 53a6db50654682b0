import { EVENT_TYPES } from '@ucd/segment'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

export const EVENT_OUTCOMES = ['accepted', 'filtered', 'duplicate', 'invalid', 'not_delivered'] as const
export type EventOutcome = (typeof EVENT_OUTCOMES)[number]

/** Label values for `type`: the Segment types, `delete` (webhook notices) and `unknown`; never client text. */
export function typeLabel(type: unknown): string {
  if (typeof type !== 'string') return 'unknown'
  const known = type.trim().toLowerCase()
  if ((EVENT_TYPES as readonly string[]).includes(known) || known === 'delete') return known
  return 'unknown'
}

export interface IngestMetrics {
  readonly registry: Registry
  readonly requests: Counter<'route' | 'status'>
  readonly events: Counter<'outcome' | 'type'>
  readonly enqueueSeconds: Histogram<'result'>
  readonly bodyBytes: Histogram<'route' | 'encoding'>
  readonly redisErrors: Counter<'op'>
  readonly redisUp: Gauge
  readonly flushRequests: Histogram
  readonly flushEvents: Histogram
}

/** The ingest's metrics, in `registry` (a new one by default, never prom-client's global registry). */
export function createIngestMetrics(registry: Registry = new Registry()): IngestMetrics {
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    requests: new Counter({
      name: 'ucd_ingest_requests_total',
      help: 'HTTP requests answered, by route (the route pattern, or "unmatched") and status code',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    events: new Counter({
      name: 'ucd_ingest_events_total',
      help: 'Events by outcome (accepted = enqueued; filtered = integrations object; duplicate = messageId seen; invalid; not_delivered = screen/alias/delete) and type',
      labelNames: ['outcome', 'type'],
      registers: [registry],
    }),
    enqueueSeconds: new Histogram({
      name: 'ucd_ingest_enqueue_duration_seconds',
      help: 'Time from the first Redis command of a request (dedupe) to Redis acknowledging its jobs, by result',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    bodyBytes: new Histogram({
      name: 'ucd_ingest_request_body_bytes',
      help: 'Size of request bodies as JSON (after decompression), by route and Content-Encoding',
      labelNames: ['route', 'encoding'],
      buckets: [256, 1024, 4096, 16_384, 32_768, 65_536, 131_072, 262_144, 524_288],
      registers: [registry],
    }),
    redisErrors: new Counter({
      name: 'ucd_ingest_redis_errors_total',
      help: 'Redis operations that failed or timed out, by operation (reserve, enqueue, commit, rollback; full = refused because Redis memory is above INGEST_REDIS_MEMORY_HIGH_PERCENT)',
      labelNames: ['op'],
      registers: [registry],
    }),
    redisUp: new Gauge({
      name: 'ucd_ingest_redis_up',
      help: '1 while the producer connection to Redis is ready and the events queue is initialised',
      registers: [registry],
    }),
    flushRequests: new Histogram({
      name: 'ucd_ingest_flush_requests',
      help: 'Requests whose events one Redis flush (reserve, then adds and commit, on one shard) carried: above 1 when INGEST_LINGER_MS gathers concurrent requests',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200],
      registers: [registry],
    }),
    flushEvents: new Histogram({
      name: 'ucd_ingest_flush_events',
      help: 'Events one Redis flush carried (bounded by INGEST_LINGER_MAX_EVENTS unless one request has more)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2500],
      registers: [registry],
    }),
  }
}
