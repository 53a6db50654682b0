#!/usr/bin/env node
import { loadConfigOrExit } from '@ucd/config'
import { buildCli } from './cli'

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { app: 'admin' })
  // First Ctrl-C (or SIGTERM): a replay stops between two records and prints its summary.
  // A second one exits at once; nothing is lost either way (see `dlq replay --help`).
  const controller = new AbortController()
  const stop = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130)
    process.stderr.write(`\n${signal}: stopping after the current record (again to quit at once)\n`)
    controller.abort()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const cli = buildCli({
    config,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  })
  const code = await cli.run(process.argv.slice(2))
  process.exitCode = code
}

main().catch((error: unknown) => {
  process.stderr.write(`admin failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
