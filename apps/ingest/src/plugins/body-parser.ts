import type { FastifyPluginCallback, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { readJsonBody } from '../body'
import type { IngestMetrics } from '../metrics'
import { ingestRouteOf } from '../request-state'

export interface BodyParserOptions {
  metrics: IngestMetrics
}

/**
 * Every body is JSON whatever its Content-Type says (SDKs send application/json, text/plain or
 * nothing): one parser for all, reading the stream itself so that the route's limit applies after
 * gzip (`readJsonBody`). Records the size in `ucd_ingest_request_body_bytes`.
 */
const bodyParser: FastifyPluginCallback<BodyParserOptions> = (app, { metrics }, done) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (request: FastifyRequest, payload, parsed) => {
    const route = ingestRouteOf(request)
    if (route === undefined || route.kind === 'metrics') {
      // Not read: Node discards the rest of the body once the response is sent.
      parsed(null, undefined)
      return
    }
    readJsonBody(payload, request.headers, route.limit).then(
      body => {
        const state = (request.ingest ??= {})
        state.bytes = body.bytes
        state.encoding = body.encoding
        if (route.kind === 'webhook') state.source = body.source
        metrics.bodyBytes.observe({ route: route.url, encoding: body.encoding }, body.bytes)
        parsed(null, body.json)
      },
      (error: Error) => parsed(error, undefined),
    )
  })

  app.addHook('onRequest', (request, _reply, next) => {
    // A Content-Type that is not even well-formed must not turn into a 415: ignore the header.
    if (ingestRouteOf(request) !== undefined) request.raw.headers['content-type'] = undefined
    next()
  })
  done()
}

export default fp(bodyParser, { name: 'ingest-body-parser', fastify: '5.x' })
