import { setFlagsFromString } from 'node:v8'
import { loadConfigOrExit } from '@ucd/config'
import { createLogger } from '@ucd/logger'
import { buildHealthServer } from './health'
import { heapGrowingFlag } from './heap'
import { usercomDelivery } from './delivery'
import { buildWorker } from './worker'

async function main(): Promise<void> {
  const heapFlag = heapGrowingFlag(process.execArgv)
  if (heapFlag !== undefined) setFlagsFromString(heapFlag)
  const config = loadConfigOrExit(process.env, { app: 'worker' })
  const logger = createLogger({
    service: 'worker',
    level: config.logLevel,
    pretty: config.logPretty,
    secrets: config.secrets,
  })
  const built = buildWorker({ config, logger, deliveryFor: usercomDelivery })
  const health = buildHealthServer(built)
  await health.listen({ host: config.worker.metricsHost, port: config.worker.metricsPort })
  logger.info(
    {
      metrics: `http://${config.worker.metricsHost}:${config.worker.metricsPort}/metrics`,
      concurrency: config.worker.concurrency,
      tenants: config.tenants.list.map(t => t.id),
    },
    'worker started',
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info(
      { signal, drainTimeoutMs: config.worker.drainTimeoutMs },
      'stopping: no new jobs, draining in-flight ones',
    )
    void (async () => {
      const { drained } = await built.close()
      await health.close()
      logger.info(
        { drained },
        drained ? 'stopped' : 'stopped after the drain timeout; unfinished jobs will be retried',
      )
      process.exit(0)
    })().catch(err => {
      logger.error({ err }, 'error while stopping')
      process.exit(1)
    })
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch(err => {
  process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
