import Fastify, { type FastifyInstance } from 'fastify'
import type { BuiltWorker } from './worker'

/**
 * A worker's operations endpoints on METRICS_PORT: `/health/live` (the process answers),
 * `/health/ready` (the worker can make progress: running, with both its Redis connections, the
 * blocking one included, up; a plain Redis PING would stay green while a dead blocking connection
 * stops all work) and `/metrics` (Prometheus).
 */
export function buildHealthServer(built: Pick<BuiltWorker, 'isReady' | 'metrics'>): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get('/health/live', (_request, reply) => reply.send({ status: 'ok' }))
  app.get('/health/ready', async (_request, reply) => {
    const ready = await built.isReady().catch(() => false)
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' })
  })
  app.get('/metrics', async (_request, reply) => {
    const registry = built.metrics.registry
    const body = await registry.metrics()
    return reply.type(registry.contentType).send(body)
  })
  return app
}
