import { loadConfigOrExit } from '@ucd/config'
import { createLogger } from '@ucd/logger'
import { buildApp, buildMetricsApp } from './app'
import { createIngestMetrics } from './metrics'
import { EventProducer } from './producer'

/** How long SIGTERM may take (in-flight requests, closing Redis) before the process gives up. */
const SHUTDOWN_TIMEOUT_MS = 15_000
/**
 * After this long, connections still open are closed: by then every request that reached a handler
 * has been answered (Redis commands time out in about a second), so what remains is a client still
 * sending its request (stalled headers or body). It was never answered 200, so it retries elsewhere.
 */
const FORCE_CLOSE_AFTER_MS = 10_000

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { app: 'ingest' })
  const logger = createLogger({
    service: 'ingest',
    level: config.logLevel,
    pretty: config.logPretty,
    secrets: config.secrets,
  })
  const metrics = createIngestMetrics()
  // main.ts owns the producer (the app only uses it): it is closed after app.close() has let the
  // requests in flight finish their enqueues.
  const producer = EventProducer.fromConfig(config, logger, metrics)
  const app = await buildApp({ config, logger, producer, metrics }).catch(async (error: unknown) => {
    await producer.close()
    throw error
  })

  const metricsApp = await buildMetricsApp({ metrics, logger })

  let stopping = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down: no new requests, finishing in-flight ones, closing Redis')
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    const forceClose = setTimeout(() => {
      logger.warn(
        { afterMs: FORCE_CLOSE_AFTER_MS },
        'closing connections of clients that have not finished sending their request',
      )
      app.server.closeAllConnections()
    }, FORCE_CLOSE_AFTER_MS)
    forceClose.unref()
    app
      .close()
      .then(() => producer.close())
      .then(() => metricsApp.close())
      .then(
        () => {
          logger.info('stopped')
          process.exit(0)
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while shutting down')
          process.exit(1)
        },
      )
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  // /metrics on its own port. Not fatal when that port is taken: events are still accepted, and the
  // error says why Prometheus finds nothing there.
  await metricsApp.listen({ host: config.ingest.metricsHost, port: config.ingest.metricsPort }).then(
    metricsAddress => logger.info({ metricsAddress }, 'ingest metrics listening'),
    (error: unknown) =>
      logger.error(
        { err: error, port: config.ingest.metricsPort },
        'could not listen for /metrics (INGEST_METRICS_PORT); continuing without it',
      ),
  )
  const address = await app.listen({ host: config.ingest.host, port: config.ingest.port })
  logger.info(
    { address, queuePrefix: config.queuePrefix, tenants: config.tenants.list.length },
    'ingest listening',
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`ingest failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
