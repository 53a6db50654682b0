export { buildApp, buildMetricsApp } from './app'
export type { BuildAppOptions } from './app'
export { INGEST_ROUTES, WEBHOOK_ROUTE } from './routes/tracking'
export type { IngestRoute } from './request-state'
export { EventProducer } from './producer'
export type { EventProducerOptions } from './producer'
export type { IngestProducer, EnqueueResult } from './producer-port'
export { createIngestMetrics, EVENT_OUTCOMES } from './metrics'
export type { IngestMetrics, EventOutcome } from './metrics'
export {
  INGEST_ERRORS,
  IngestHttpError,
  PayloadTooLargeError,
  InvalidJsonError,
  InvalidGzipError,
  UnsupportedEncodingError,
  InvalidRequestError,
  UnauthorizedError,
  UnavailableError,
} from './errors'
export type { IngestErrorCode } from './errors'
export { writeKeyFromHeader, writeKeyFromBody } from './auth'
export { MAX_JSON_DEPTH } from './body'
export { INGEST_NODE_FLAGS } from './node-flags'
