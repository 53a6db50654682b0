import type { FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Shutdown: Fastify stops accepting connections (new requests on open ones get 503), lets the
 * requests in flight finish, then runs onClose. An answer sent meanwhile closes its connection, so
 * keep-alive clients do not hold the shutdown up.
 */
const gracefulClose: FastifyPluginCallback = (app, _options, done) => {
  let closing = false
  app.addHook('preClose', next => {
    closing = true
    next()
  })
  app.addHook('onSend', (_request, reply, payload, next) => {
    if (closing) void reply.header('connection', 'close')
    next(null, payload)
  })
  done()
}

export default fp(gracefulClose, { name: 'ingest-graceful-close', fastify: '5.x' })
