import { runDemo } from './local/demo'
import { StackError } from './local/errors'
import { startStack } from './local/stack'

// `node infra/dist/main.js stack` (npm start, after bootstrap) and `node infra/dist/main.js demo`
// (pnpm demo): the only place of this package that reads process.env and handles signals.

async function stack(): Promise<number> {
  // A closed terminal or pipe (EPIPE, EIO) must not crash the launcher before it has stopped the stack.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)
  const handle = startStack({
    env: process.env,
    out: process.stdout,
    err: process.stderr,
    tty: process.stdout.isTTY === true,
  })
  let signals = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1
    if (signals === 1) {
      process.stdout.write(`\n${signal}: stopping the stack (again to kill everything at once)\n`)
      handle.stop(signal)
    } else {
      process.stdout.write(`\n${signal} again: killing everything (SIGKILL)\n`)
      handle.kill()
    }
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal)
  // Whatever ends this process, it does not leave the stack's processes behind.
  process.on('exit', () => handle.kill())
  return handle.done
}

async function demo(): Promise<number> {
  return runDemo({ env: process.env, out: process.stdout, err: process.stderr })
}

const commands: Record<string, () => Promise<number>> = { stack, demo }
const name = process.argv[2] ?? ''
const command = commands[name]
if (!command) {
  process.stderr.write(`usage: node infra/dist/main.js <${Object.keys(commands).join('|')}>\n`)
  process.exit(2)
}
command().then(
  code => process.exit(code),
  (error: unknown) => {
    const message = error instanceof StackError || error instanceof Error ? error.message : String(error)
    process.stderr.write(`${name}: ${message}\n`)
    process.exit(1)
  },
)
