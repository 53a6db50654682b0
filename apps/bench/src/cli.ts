import { Command, InvalidArgumentError } from 'commander'
import { PROFILED_APPS, type ProfiledApp } from './context'
import { SECTIONS, type Section } from './run'

export interface CliOptions {
  quick: boolean
  only: Section[]
  out?: string
  write: boolean
  profile: ProfiledApp[]
  keepLogs: boolean
  markdown: boolean
  latencies?: number[]
  concurrencies?: number[]
  processes?: number[]
  appsFrom?: string
  render?: string
}

const list =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): T[] => {
    const items = value
      .split(',')
      .map(s => s.trim())
      .filter(Boolean)
    for (const item of items)
      if (!allowed.includes(item as T))
        throw new InvalidArgumentError(`expected some of ${allowed.join(', ')}`)
    return items as T[]
  }

const numbers = (value: string): number[] => {
  const items = value.split(',').map(s => Number(s.trim()))
  if (items.some(n => !Number.isInteger(n) || n < 0))
    throw new InvalidArgumentError('expected a list of whole numbers')
  return items
}

/** Parses `pnpm bench` arguments; commander prints help and usage errors itself. */
export function parseCli(argv: readonly string[]): CliOptions {
  const program = new Command('bench')
    .description(
      'Benchmarks the ingest and the worker next to bare BullMQ, Fastify and Redis on a private redis-server; ' +
        'prints a table and writes JSON (full mode: results/<date>.json and results/latest.json).',
    )
    .option(
      '--quick',
      'short runs and fewer events (under 3 minutes); JSON goes to results/quick.tmp.json',
      false,
    )
    .option(
      '--only <sections>',
      `run some sections: ${SECTIONS.join(',')} (default: all but isolation)`,
      list(SECTIONS),
      SECTIONS.filter(s => s !== 'isolation'),
    )
    .option('--out <file>', 'write the JSON here instead')
    .option('--no-write', 'do not write a JSON file')
    .option(
      '--profile <apps>',
      `run some of ${PROFILED_APPS.join(',')} with node --cpu-prof and print their top frames`,
      list(PROFILED_APPS),
      [],
    )
    .option('--keep-logs', "keep the child processes' logs (they are kept anyway when a run fails)", false)
    .option('--latencies <ms>', 'simulator latencies of the worker section (default 0,50)', numbers)
    .option('--concurrencies <list>', 'worker concurrencies (default 1,10,50,200)', numbers)
    .option('--processes <list>', 'worker processes of the scale-out section (default 1,2,4)', numbers)
    .option(
      '--apps-from <dir>',
      'measure the ingest, worker, simulator and redis.conf of another built checkout (its root folder)',
    )
    .option('--render <file>', 'print the report of a results JSON file instead of running')
    .option('--markdown', 'print the report as markdown (for the README)', false)
    .allowExcessArguments(false)
  // `pnpm bench -- --quick` passes a literal "--".
  program.parse(
    argv.filter(a => a !== '--'),
    { from: 'user' },
  )
  return program.opts<CliOptions>()
}
