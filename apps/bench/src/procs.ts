import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, httpOk, sleep } from '@ucd/testing'

// Child processes of a benchmark run: each one's output goes to a log file (never through a pipe the
// bench would have to read, which would cost the bench CPU), and every child is killed when the run
// ends, fails, or is interrupted.

export interface Child {
  readonly name: string
  readonly pid: number
  readonly logFile: string
  /** Exit code (or null when killed by a signal), once it exited. */
  readonly exited: Promise<number | null>
  /** True until it exited. */
  running(): boolean
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it exited. */
  stop(timeoutMs?: number): Promise<number | null>
  /** What it printed so far. */
  output(): string
}

export class ProcessGroup {
  private readonly children = new Set<ChildProcess>()
  private counter = 0

  constructor(
    private readonly logDir: string,
    /** The environment every child starts from (PATH and the like); settings are added per child. */
    private readonly baseEnv: Readonly<Record<string, string | undefined>>,
  ) {}

  /** `node [nodeArgs] script [args]` with `env` added to the base environment. */
  spawnNode(
    name: string,
    script: string,
    options: { args?: readonly string[]; env?: Record<string, string>; nodeArgs?: readonly string[] } = {},
  ): Child {
    this.counter += 1
    const logFile = join(this.logDir, `${String(this.counter).padStart(3, '0')}-${name}.log`)
    const fd = openSync(logFile, 'a')
    const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
      env: { ...this.baseEnv, ...options.env },
      stdio: ['ignore', fd, fd],
    })
    closeSync(fd)
    if (proc.pid === undefined) throw new Error(`could not start ${name} (${script})`)
    const pid = proc.pid
    this.children.add(proc)
    const exited = new Promise<number | null>(resolve => {
      proc.once('exit', code => {
        this.children.delete(proc)
        resolve(code)
      })
    })
    const running = (): boolean => proc.exitCode === null && proc.signalCode === null
    return {
      name,
      pid,
      logFile,
      exited,
      running,
      output: () => {
        try {
          return readFileSync(logFile, 'utf8')
        } catch {
          return ''
        }
      },
      stop: async (timeoutMs = 10_000) => {
        if (!running()) return exited
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
        const code = await exited
        clearTimeout(timer)
        return code
      },
    }
  }

  /** Kills every child still running (SIGKILL) and waits for them. */
  async killAll(): Promise<void> {
    const waits = [...this.children].map(
      proc =>
        new Promise<void>(resolve => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
          proc.once('exit', () => resolve())
          proc.kill('SIGKILL')
        }),
    )
    await Promise.all(waits)
  }

  /** For process 'exit' handlers: no waiting possible there. */
  killAllSync(): void {
    for (const proc of this.children) proc.kill('SIGKILL')
  }
}

/** Peak resident set size (VmHWM) of a running process, in bytes; undefined when it cannot be read. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

/** Polls `check` until it answers true; throws after `timeoutMs` with `what` and the child's last output. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs?: number; intervalMs?: number; child?: Child } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  for (;;) {
    if (options.child && !options.child.running()) {
      throw new Error(
        `${options.child.name} exited while waiting for ${what}:\n${options.child.output().slice(-3000)}`,
      )
    }
    if (await check()) return
    if (Date.now() > deadline) {
      const tail = options.child
        ? `\n${options.child.name} output:\n${options.child.output().slice(-3000)}`
        : ''
      throw new Error(`timed out waiting for ${what}${tail}`)
    }
    await sleep(options.intervalMs ?? 50)
  }
}

/** A child serving HTTP on 127.0.0.1 at a free port; `ready()` waits until `readyPath` there answers 2xx. */
export interface HttpChild {
  child: Child
  origin: string
  ready: () => Promise<void>
}

/**
 * Starts `start(port)` on a free port, without waiting: for callers that register the child for
 * cleanup before waiting for it (`what` names the wait in errors).
 */
export async function spawnHttp(
  what: string,
  start: (port: number) => Child,
  readyPath: string,
): Promise<HttpChild> {
  const port = await freePort()
  const child = start(port)
  const origin = `http://127.0.0.1:${port}`
  return {
    child,
    origin,
    ready: () => waitUntil(what, () => httpOk(`${origin}${readyPath}`), { child }),
  }
}

/** `spawnHttp`, then waits until it is ready. */
export async function startHttp(
  what: string,
  start: (port: number) => Child,
  readyPath: string,
): Promise<{ child: Child; origin: string }> {
  const { child, origin, ready } = await spawnHttp(what, start, readyPath)
  await ready()
  return { child, origin }
}

/** CPU time (user + system) a process has used so far, in ms; undefined when it cannot be read. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: fields after it are counted from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    // USER_HZ is 100 on Linux.
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * 10 : undefined
  } catch {
    return undefined
  }
}
