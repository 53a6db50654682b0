import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { StackError } from './errors'
import { processExists, readStackInfo, type StackProcessInfo } from './stack-info'

/** The command line of a running process (`ps`), or undefined when it cannot be read. */
function commandOf(pid: number): string | undefined {
  const result = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : undefined
}

/** Whether a pid from an old stack.json still runs what the stack started there (pids get reused). */
export function isLeftover(process: StackProcessInfo, command: string | undefined): boolean {
  if (command === undefined) return false
  if (process.name === 'redis-server') {
    // redis-server rewrites its title to "<binary> <bind>:<port>".
    const port = /--port (\d+)/.exec(process.command)?.[1]
    return command.includes('redis-server') && port !== undefined && command.includes(`:${port}`)
  }
  return command === process.command
}

/**
 * Stops a stack left behind by a launcher that was killed (its processes, its Redis directory), or
 * refuses when one still runs from `dir`.
 */
export function checkPreviousStack(
  dir: string,
  log: (line: string) => void,
  shown: (path: string) => string,
): void {
  const previous = readStackInfo(dir)
  if (previous.status !== 'ok') {
    if (previous.status === 'invalid') rmSync(previous.path, { force: true })
    return
  }
  const info = previous.info
  // Checked before this stack writes its own file: a live launcher means another stack owns the directory.
  if (processExists(info.launcherPid)) {
    throw new StackError(
      'UCD_ERR_STACK_RUNNING',
      `A local stack is already running from ${shown(dir)} (launcher pid ${info.launcherPid}, ingest ${info.ingest.url}).\n` +
        `Stop it first (Ctrl-C in its terminal, or kill ${info.launcherPid}), or run a second one with its own ` +
        'LOCAL_STACK_DIR (and ports: INGEST_PORT=0 INGEST_METRICS_PORT=0 SIM_PORT=0 METRICS_PORT=0 pick free ones).',
    )
  }
  const leftovers = info.processes.filter(p => processExists(p.pid) && isLeftover(p, commandOf(p.pid)))
  for (const p of leftovers) {
    log(`stopping ${p.name} (pid ${p.pid}), left running by a stack whose launcher was killed`)
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
  if (info.redis.dir) rmSync(info.redis.dir, { recursive: true, force: true })
  rmSync(previous.path, { force: true })
}
