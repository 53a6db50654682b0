import type { FastifyPluginCallback } from 'fastify'
import type { IngestProducer } from '../producer-port'

export interface HealthOptions {
  producer: IngestProducer
}

/** `/health/live`: the process answers. `/health/ready`: the event store answers too (else 503). */
export const healthRoutes: FastifyPluginCallback<HealthOptions> = (app, { producer }, done) => {
  app.get('/health/live', async (_request, reply) => reply.send({ status: 'ok' }))
  app.get('/health/ready', async (_request, reply) => {
    const ok = await producer.ping()
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', redis: ok })
  })
  done()
}
