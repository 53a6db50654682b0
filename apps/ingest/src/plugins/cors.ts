import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** How long a browser may cache a preflight answer. */
export const PREFLIGHT_MAX_AGE_S = 86_400

/**
 * CORS on the tracking routes only (/v1/*: browser SDKs such as analytics.js post there from any
 * site); /health/* and other paths answer without CORS headers, and their preflight is a 404. No
 * credentials: the write key travels in the Authorization header or the body, never in a cookie.
 * Allowed request headers are reflected from the preflight (Authorization, Content-Type, ...).
 *
 * The same answers as @fastify/cors with a per-request delegator (origin reflected, `Vary: Origin`
 * on every answer, strict preflight, 204 with `Content-Length: 0`), without building and normalising
 * an options object on every request, which the profile of /v1/track showed.
 */
const cors: FastifyPluginCallback = (app, _options, done) => {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, next) => {
    void reply.header('vary', 'Origin')
    if (!request.url.startsWith('/v1/')) {
      next()
      return
    }
    const origin = request.headers.origin
    if (origin) void reply.header('access-control-allow-origin', origin)
    if (request.raw.method !== 'OPTIONS') {
      next()
      return
    }
    if (!origin || !request.headers['access-control-request-method']) {
      void reply.code(400).type('text/plain').send('Invalid Preflight Request')
      return
    }
    void reply.header('access-control-allow-methods', 'POST, OPTIONS')
    void reply.header('vary', 'Origin, Access-Control-Request-Headers')
    const requested = request.headers['access-control-request-headers']
    if (requested !== undefined) void reply.header('access-control-allow-headers', requested)
    void reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S))
    void reply.code(204).header('content-length', '0').send()
  })
  // Preflights of /v1/* are answered by the hook above; any other OPTIONS is not found.
  app.options('*', (_request, reply) => {
    reply.callNotFound()
  })
  done()
}

export default fp(cors, { name: 'ingest-cors', fastify: '5.x' })
