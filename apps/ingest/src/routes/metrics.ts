import type { FastifyPluginCallback } from 'fastify'
import type { IngestMetrics } from '../metrics'

export interface MetricsOptions {
  metrics: IngestMetrics
}

/** `GET /metrics`: the ingest's own registry in Prometheus text. */
export const metricsRoutes: FastifyPluginCallback<MetricsOptions> = (app, { metrics }, done) => {
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  )
  done()
}
