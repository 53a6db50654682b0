import { spawn, type ChildProcess } from 'node:child_process'
import { httpOk } from './http'
import { sleep } from './wait'

export interface SpawnAppOptions {
  /** Executable; defaults to the current Node binary. */
  command?: string
  args: readonly string[]
  env?: Readonly<Record<string, string | undefined>>
  /** Merge `env` over process.env (default) or use it alone. */
  inheritEnv?: boolean
  cwd?: string
  /** Ready when an HTTP GET to this URL answers 2xx ... */
  readyUrl?: string
  /** ... or when the combined output matches this. */
  readyPattern?: RegExp
  /** How long to wait for readiness (default 60 s: a loaded CI machine starts Node slowly). */
  readyTimeoutMs?: number
}

export interface ExitResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Milliseconds from the signal to the exit. */
  elapsedMs: number
}

export interface AppProcess {
  readonly child: ChildProcess
  readonly pid: number
  stdout(): string
  stderr(): string
  /** Resolves when the process has exited (whatever stopped it). */
  exited(): Promise<ExitResult>
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; after `timeoutMs` (default 30 s) it
   * sends SIGKILL, so a test never leaves a process behind.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitResult>
  /** SIGKILL, as a crash would. */
  kill(): Promise<ExitResult>
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

/** Spawns an app (by default `node <args>`) and resolves once it is ready. */
export async function spawnApp(options: SpawnAppOptions): Promise<AppProcess> {
  installExitHook()
  const env = options.inheritEnv === false ? { ...options.env } : { ...process.env, ...options.env }
  const child = spawn(options.command ?? process.execPath, options.args, {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  let signalledAt = Date.now()
  const exitPromise = new Promise<ExitResult>(resolve => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      // Let the pipes drain before reporting the output.
      setImmediate(() =>
        resolve({ code, signal, stdout: out, stderr: err, elapsedMs: Date.now() - signalledAt }),
      )
    })
  })

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<ExitResult> => {
    if (child.exitCode === null && child.signalCode === null) {
      signalledAt = Date.now()
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      timer.unref()
      const result = await exitPromise
      clearTimeout(timer)
      return result
    }
    return exitPromise
  }

  const app: AppProcess = {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited: () => exitPromise,
    stop,
    kill: () => stop('SIGKILL'),
  }

  const timeoutMs = options.readyTimeoutMs ?? 60_000
  const deadline = Date.now() + timeoutMs
  let exited = false
  void exitPromise.then(() => (exited = true))
  for (;;) {
    if (exited) {
      const result = await exitPromise
      throw new Error(
        `${options.args.join(' ')} exited (code ${String(result.code)}, signal ${String(result.signal)}) before it was ready.\n` +
          `stdout:\n${result.stdout.slice(-4000)}\nstderr:\n${result.stderr.slice(-4000)}`,
      )
    }
    const readyByOutput = options.readyPattern?.test(out + err) ?? false
    const readyByUrl = options.readyUrl ? await httpOk(options.readyUrl) : false
    if (readyByOutput || readyByUrl || (!options.readyPattern && !options.readyUrl)) return app
    if (Date.now() > deadline) {
      await stop('SIGKILL')
      throw new Error(
        `${options.args.join(' ')} was not ready within ${timeoutMs} ms.\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`,
      )
    }
    await sleep(100)
  }
}
