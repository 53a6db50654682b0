import { randomUUID } from 'node:crypto'
import type { Config } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { IngestMetrics } from './metrics'
import authPlugin from './plugins/auth'
import bodyParserPlugin from './plugins/body-parser'
import corsPlugin from './plugins/cors'
import errorsPlugin from './plugins/errors'
import gracefulClosePlugin from './plugins/graceful-close'
import requestLogPlugin from './plugins/request-log'
import type { IngestProducer } from './producer-port'
import { requestLoggerFactory } from './request-logger'
import './request-state'
import { healthRoutes } from './routes/health'
import { metricsRoutes } from './routes/metrics'
import { trackingRoutes } from './routes/tracking'

export interface BuildAppOptions {
  config: Config
  logger: Logger
  /**
   * Where accepted events go: `EventProducer` (Redis) in main.ts and the integration tests. The app
   * does not close it; whoever created it does, after `app.close()`.
   */
  producer: IngestProducer
  /**
   * The metrics the app records into: `createIngestMetrics()`, the same set the producer records into
   * (Redis up, enqueue durations, Redis errors), served by `buildMetricsApp` on the metrics port.
   */
  metrics: IngestMetrics
  /** Clock for `receivedAt` (tests). */
  now?: () => Date
  /** messageId for events that have none (default: random UUID, in packages/segment). */
  newMessageId?: () => string
  /** How often the `requests answered` log line is written (default 60 s; plugins/request-log). */
  requestSummaryIntervalMs?: number
}

/**
 * The ingest HTTP app: Segment's Tracking API routes and /health/*, put together from
 * `plugins/` (shutdown, body parser, Basic auth, request log, error answers) and `routes/`. Accepted
 * events go to `producer`; while it is down, event requests answer 503 and /health/ready 503.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, logger, producer, metrics } = options
  const baseLogger: FastifyBaseLogger = logger
  const app = Fastify({
    loggerInstance: baseLogger,
    // One line per request, written by plugins/request-log; Fastify's own two lines are off.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // No pino child per request: lines carry requestId (and tenantId) all the same (request-logger.ts).
    childLoggerFactory: requestLoggerFactory,
    // Behind a load balancer, request.ip (context.ip of client events) comes from X-Forwarded-For
    // only for the proxies INGEST_TRUST_PROXY names; by default the socket's peer is the client.
    trustProxy: config.ingest.trustProxy,
    // A client that trickles its body never ties up the service for long.
    requestTimeout: 30_000,
    return503OnClosing: true,
  })
  app.decorateRequest('ingest', null)
  app.decorateRequest('ingestRoute', null)

  await app.register(gracefulClosePlugin)
  await app.register(corsPlugin)
  await app.register(bodyParserPlugin, { metrics })
  await app.register(authPlugin, { tenants: config.tenants })
  await app.register(requestLogPlugin, { metrics, summaryIntervalMs: options.requestSummaryIntervalMs })
  await app.register(errorsPlugin)

  await app.register(trackingRoutes, {
    tenants: config.tenants,
    producer,
    metrics,
    now: options.now ?? (() => new Date()),
    newMessageId: options.newMessageId,
    maxBatchItems: config.ingest.maxBatchItems,
  })
  await app.register(healthRoutes, { producer })
  return app
}

/**
 * The ingest's /metrics, on its own port (INGEST_METRICS_HOST, INGEST_METRICS_PORT), never on the
 * public one: a browser write key does not reach it, and it can stay inside the cluster network.
 */
export async function buildMetricsApp(options: {
  metrics: IngestMetrics
  logger: Logger
}): Promise<FastifyInstance> {
  const baseLogger: FastifyBaseLogger = options.logger
  const app = Fastify({
    loggerInstance: baseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  })
  await app.register(metricsRoutes, { metrics: options.metrics })
  return app
}
