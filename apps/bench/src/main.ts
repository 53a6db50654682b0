#!/usr/bin/env node
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseCli } from './cli'
import { renderMarkdownReport, renderReport } from './report'
import type { BenchResults } from './results'
import { runBench, SECTIONS, type Running } from './run'

// `pnpm bench [--quick]`: see README.md. Not configured by env: its children get their settings
// explicitly (REDIS_URL of the private redis-server, QUEUE_PREFIX, ports, keys).

const RESULTS_DIR = join(__dirname, '..', 'results')

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2))
  if (cli.render !== undefined) {
    const saved = JSON.parse(readFileSync(cli.render, 'utf8')) as BenchResults
    process.stdout.write(cli.markdown ? renderMarkdownReport(saved) : renderReport(saved))
    return
  }
  let running: Running | undefined
  let interrupted = false
  const interrupt = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130)
    interrupted = true
    process.stderr.write(`\n${signal}: stopping every process of the run\n`)
    void (async () => {
      await running?.group.killAll()
      await running?.redis?.stop()
      process.exit(130)
    })()
  }
  process.on('SIGINT', interrupt)
  process.on('SIGTERM', interrupt)
  process.on('exit', () => {
    running?.group.killAllSync()
    const pid = running?.redis?.pid
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  })

  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const results = await runBench(
    {
      mode: cli.quick ? 'quick' : 'full',
      sections: cli.only,
      baseEnv: process.env,
      profile: cli.profile,
      profileDir: join(RESULTS_DIR, 'profiles', stamp),
      keepLogs: cli.keepLogs,
      ...(cli.appsFrom === undefined ? {} : { appsFrom: resolve(cli.appsFrom) }),
      overrides: {
        ...(cli.latencies ? { latencies: cli.latencies } : {}),
        ...(cli.concurrencies ? { concurrencies: cli.concurrencies } : {}),
        ...(cli.processes ? { scaleProcesses: cli.processes } : {}),
      },
      log: message => process.stderr.write(`${message}\n`),
    },
    r => (running = r),
  )
  process.stdout.write(`\n${cli.markdown ? renderMarkdownReport(results) : renderReport(results)}`)
  if (cli.write) {
    mkdirSync(RESULTS_DIR, { recursive: true })
    const json = `${JSON.stringify(results, null, 2)}\n`
    const files = cli.out
      ? [cli.out]
      : cli.quick ||
          cli.only.length < SECTIONS.length ||
          cli.latencies ||
          cli.concurrencies ||
          cli.processes ||
          cli.appsFrom
        ? [join(RESULTS_DIR, 'quick.tmp.json')]
        : [join(RESULTS_DIR, `${stamp}.json`), join(RESULTS_DIR, 'latest.json')]
    for (const file of files) writeFileSync(file, json)
    process.stdout.write(`\nwrote ${files.join(', ')}\n`)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
