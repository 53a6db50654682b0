import { fork } from 'node:child_process'
import { join } from 'node:path'
import { z } from 'zod'
import { exitWithParent, fail, parseArgs } from './bare/common'
import type { LoadResult } from './load'
import { runOpenLoad } from './open-load'
import { BodyFactory, BodyRecipeSchema } from './workload'

// The open-loop load generator (open-load.ts) in a process of its own, started for one run: a fresh
// heap, so that its own garbage collection is not counted as the server's latency. Run inside the bench
// process, which holds tens of MB from the runs before it, it paused 5–16 ms in a mark-compact about
// every half second at 8,500 requests/s, and the requests due meanwhile were sent late: the open-loop
// p99 read 127–200 ms where a fresh process measured 7–16 ms against the same ingest.

const ArgsSchema = z.object({
  url: z.string(),
  path: z.string(),
  connections: z.number().int().positive(),
  durationS: z.number().positive(),
  overallRate: z.number().positive(),
  warmupS: z.number().nonnegative(),
  headers: z.record(z.string(), z.string()),
  bodies: BodyRecipeSchema,
  batch: z.boolean(),
})
type Args = z.infer<typeof ArgsSchema>

/** What the process tells the bench, over the IPC channel. */
type Message = { type: 'measuring' } | { type: 'result'; result: LoadResult }

/** Runs one open-loop run in a child process; `onMeasuring` is called when its measured window starts. */
export function runOpenLoadInProcess(args: Args, onMeasuring: () => void): Promise<LoadResult> {
  // From the compiled file (dist); under ts-jest, from the build of this file (tests run after it).
  const script = __filename.endsWith('.ts')
    ? join(__dirname, '..', 'dist', 'open-load-process.js')
    : join(__dirname, 'open-load-process.js')
  const child = fork(script, [JSON.stringify(args)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise<LoadResult>((resolve, reject) => {
    let result: LoadResult | undefined
    child.on('message', (message: Message) => {
      if (message.type === 'measuring') onMeasuring()
      else result = message.result
    })
    child.once('error', reject)
    child.once('exit', code => {
      if (result !== undefined) resolve(result)
      else reject(new Error(`the open-loop load generator exited with code ${String(code)} and no result`))
    })
  })
}

async function main(): Promise<void> {
  const args = parseArgs(ArgsSchema, process.argv)
  exitWithParent()
  const send = (message: Message): void => {
    process.send?.(message)
  }
  const factory = new BodyFactory(
    args.bodies.tag,
    args.bodies.users,
    args.bodies.timestamp,
    args.bodies.eventsPerBatch,
  )
  const result = await runOpenLoad({
    url: args.url,
    path: args.path,
    connections: args.connections,
    durationS: args.durationS,
    overallRate: args.overallRate,
    warmupS: args.warmupS,
    headers: args.headers,
    body: args.batch ? () => factory.batch() : () => factory.single(),
    onMeasuring: () => send({ type: 'measuring' }),
  })
  send({ type: 'result', result })
  process.disconnect?.()
}

if (require.main === module) main().catch(fail)
