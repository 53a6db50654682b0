import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { IngestHttpError } from '../errors'

/**
 * Every error answer is JSON `{ success: false, code, message }`: the ingest's own errors with their
 * status (503 with `Retry-After: 1`), Fastify's client errors with theirs, anything else a 500 that
 * is logged; unknown routes a 404.
 */
const errors: FastifyPluginCallback = (app, _options, done) => {
  app.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof IngestHttpError) {
      if (error.statusCode === 503) void reply.header('retry-after', '1')
      return reply.code(error.statusCode).send(error.body())
    }
    const status = (error as { statusCode?: unknown }).statusCode
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own client errors (e.g. a content-length that does not match the body).
      const code = (error as { code?: unknown }).code
      const answer = new IngestHttpError(
        'UCD_ERR_BAD_REQUEST',
        error instanceof Error ? error.message : undefined,
      )
      return reply
        .code(status)
        .send({ ...answer.body(), code: typeof code === 'string' ? code : answer.code })
    }
    request.log.error({ err: error }, 'unexpected error')
    const internal = new IngestHttpError('UCD_ERR_INTERNAL')
    return reply.code(internal.statusCode).send(internal.body())
  })

  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    const notFound = new IngestHttpError('UCD_ERR_NOT_FOUND', request.method, request.url.split('?')[0] ?? '')
    return reply.code(notFound.statusCode).send(notFound.body())
  })
  done()
}

export default fp(errors, { name: 'ingest-errors', fastify: '5.x' })
