import { createLogger } from '@ucd/logger'
import { parseSimEnv } from './env'
import { startSimulator } from './control'

// `pnpm sim`: the simulator as a standalone process, configured by SIM_* env vars and flags.

async function main(): Promise<void> {
  const parsed = parseSimEnv(process.env, process.argv.slice(2))
  if (!parsed.ok) {
    process.stderr.write(
      `usercom-sim: invalid configuration:\n${parsed.problems.map(p => `  - ${p}`).join('\n')}\n`,
    )
    process.exit(1)
  }
  const { config } = parsed
  const logger = createLogger({
    service: 'usercom-sim',
    level: config.logLevel,
    pretty: config.logPretty,
    secrets: config.options.keys.map(k => k.key),
  })
  const sim = await startSimulator({ ...config.options, logger, host: config.host, port: config.port })
  logger.info(
    {
      baseUrl: sim.baseUrl,
      control: `${sim.origin}/__sim/`,
      apps: [...new Set(config.options.keys.map(k => k.app))],
    },
    `usercom-sim listening on ${sim.baseUrl}`,
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'usercom-sim stopping')
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'usercom-sim failed to close')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `usercom-sim failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exit(1)
})
