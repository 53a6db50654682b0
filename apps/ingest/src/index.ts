export { buildApp, INGEST_ROUTES, WEBHOOK_ROUTE } from './app'
export type { BuildAppOptions, IngestRoute } from './app'
export { createIngestMetrics, EVENT_OUTCOMES } from './metrics'
export type { IngestMetrics, EventOutcome } from './metrics'
export {
  IngestHttpError,
  PayloadTooLargeError,
  InvalidJsonError,
  InvalidGzipError,
  UnsupportedEncodingError,
  InvalidRequestError,
  UnauthorizedError,
  UnavailableError,
} from './errors'
export { writeKeyFromHeader, writeKeyFromBody } from './auth'
export { MAX_JSON_DEPTH } from './body'
