import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { IngestMetrics } from '../metrics'
import { ingestRouteOf } from '../request-state'

export interface RequestLogOptions {
  metrics: IngestMetrics
}

/**
 * Counts every answer in `ucd_ingest_requests_total` and logs one line per answered ingest request
 * (Fastify's own two lines per request are off). Never the body or a header but the user agent.
 */
const requestLog: FastifyPluginCallback<RequestLogOptions> = (app, { metrics }, done) => {
  // The root logger, with the request's id and tenant written out: what the request's logger would
  // write, without merging its bindings into the line on every request (request-logger.ts).
  const log = app.log
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, next) => {
    const ingest = ingestRouteOf(request)
    const route = ingest?.url ?? (request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'))
    metrics.requests.inc({ route, status: String(reply.statusCode) })
    if (ingest === undefined) {
      next()
      return
    }
    const state = request.ingest
    log.info(
      {
        requestId: request.id,
        tenantId: state?.tenant?.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        bytes: state?.bytes,
        encoding: state?.encoding,
        events: state?.outcome,
        userAgent: request.headers['user-agent']?.slice(0, 120),
      },
      'request completed',
    )
    next()
  })
  done()
}

export default fp(requestLog, { name: 'ingest-request-log', fastify: '5.x' })
