import type { Tenant } from '@ucd/config'
import type { FastifyRequest } from 'fastify'
import type { BodyLimit, ContentEncoding } from './body'
import type { EventOutcome } from './metrics'
import type { IngestRouteKind } from './triage'

/**
 * Route options of an ingest route: what it takes and its size limit, and its path (the `route` label).
 * `metrics` is /v1/m (ignored).
 */
export type IngestRoute = ((IngestRouteKind & { limit: BodyLimit }) | { kind: 'metrics' }) & { url: string }

/**
 * The ingest route options of the request's route, or undefined for other routes (health, 404),
 * looked up once per request: Fastify builds a new `request.routeOptions` object at every access.
 */
export function ingestRouteOf(request: FastifyRequest): IngestRoute | undefined {
  let route = request.ingestRoute
  if (route === null) {
    route = request.routeOptions.config.ingest ?? false
    request.ingestRoute = route
  }
  return route === false ? undefined : route
}

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
    /** `ingestRouteOf`'s memo, decorated in buildApp: null until looked up, false for other routes. */
    ingestRoute: IngestRoute | false | null
  }
}
