import type { Tenant } from '@ucd/config'
import type { BodyLimit, ContentEncoding } from './body'
import type { EventOutcome } from './metrics'
import type { IngestRouteKind } from './triage'

/** Route options of an ingest route: what it takes and its size limit. `metrics` is /v1/m (ignored). */
export type IngestRoute = (IngestRouteKind & { limit: BodyLimit }) | { kind: 'metrics' }

/** What the plugins learn about an ingest request on its way, for the route and the log line. */
export interface IngestRequestState {
  /** Tenant of an `Authorization: Basic` write key, resolved before the body is read. */
  tenant?: Tenant
  bytes?: number
  encoding?: ContentEncoding
  /** The body's bytes, kept on the webhook route only (its X-Signature covers them). */
  source?: Buffer
  outcome?: Record<EventOutcome, number>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    ingest?: IngestRoute
  }
  interface FastifyRequest {
    /** Decorated in buildApp (null until a plugin sets it). */
    ingest: IngestRequestState | null
  }
}
