import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

/** Where the supervisor writes: the launcher's stdout (or a test's buffer). */
export interface TextOut {
  write(text: string): unknown
}

export interface ChildSpec {
  /** Short name, the prefix of every line the process prints: "ingest", "worker-1". */
  name: string
  command: string
  args: readonly string[]
  env: Readonly<Record<string, string | undefined>>
  cwd?: string
}

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ManagedChild {
  readonly name: string
  readonly pid: number
  /** The command line, as started. */
  readonly command: string
  /** Resolves when the process has exited, whatever stopped it. */
  readonly exited: Promise<ChildExit>
  running(): boolean
  /** True once the supervisor signalled it: its exit is then expected. */
  stopping(): boolean
  /** Its last lines of output, for error messages. */
  tail(): string[]
}

export interface SupervisorOptions {
  out: TextOut
  /** Colour the prefixes (a terminal). */
  colors?: boolean
  /** Called once for the first process that exits without having been asked to. */
  onUnexpectedExit?: (child: ManagedChild, exit: ChildExit) => void
}

const COLORS = [36, 33, 35, 32, 34, 31]
const TAIL_LINES = 20

export function describeExit(exit: ChildExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`
}

/**
 * Runs the stack's processes: each in its own process group (so a terminal's Ctrl-C reaches only the
 * launcher, which then stops them in order), output prefixed with the process's name, and stopped with
 * SIGTERM, then SIGKILL after a bound. Remembers every process it started until it has exited.
 */
export class Supervisor {
  private readonly children: ManagedChild[] = []
  private readonly processes = new Map<string, ChildProcess>()
  private readonly signalled = new Set<string>()
  /** Prefix width: the longest name the stack uses (redis-server), so the columns line up. */
  private width = 12
  private unexpectedReported = false

  constructor(private readonly options: SupervisorOptions) {}

  /** Starts a process; throws when it cannot be spawned at all (e.g. the binary is missing). */
  async start(spec: ChildSpec): Promise<ManagedChild> {
    this.width = Math.max(this.width, spec.name.length)
    const proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: Object.fromEntries(Object.entries(spec.env).filter(([, v]) => v !== undefined)),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve)
      proc.once('error', reject)
    })
    // Later errors (a kill of a process that just exited) change nothing: its 'exit' tells the story.
    proc.on('error', () => undefined)
    const pid = proc.pid ?? -1
    const color = COLORS[this.children.length % COLORS.length] ?? 36
    const lines: string[] = []
    const print = (line: string): void => {
      lines.push(line)
      if (lines.length > TAIL_LINES) lines.shift()
      this.options.out.write(`${this.prefix(spec.name, color)} ${line}\n`)
    }
    const streams = [proc.stdout, proc.stderr].map(stream => {
      if (!stream) return Promise.resolve()
      const reader = createInterface({ input: stream, crlfDelay: Infinity })
      reader.on('line', print)
      return new Promise<void>(resolve => reader.once('close', resolve))
    })
    const exited = new Promise<ChildExit>(resolve => {
      proc.once('exit', (code, signal) => {
        // Wait for the pipes to drain (bounded: a grandchild could hold them open), then report.
        const drained = Promise.all(streams)
        const bound = new Promise(done => setTimeout(done, 1000).unref())
        void Promise.race([drained, bound]).then(() => resolve({ code, signal }))
      })
    })
    const child: ManagedChild = {
      name: spec.name,
      pid,
      command: [spec.command, ...spec.args].join(' '),
      exited,
      running: () => proc.exitCode === null && proc.signalCode === null,
      stopping: () => this.signalled.has(spec.name),
      tail: () => [...lines],
    }
    this.children.push(child)
    this.processes.set(spec.name, proc)
    void exited.then(exit => {
      if (this.signalled.has(spec.name) || this.unexpectedReported) return
      this.unexpectedReported = true
      this.options.onUnexpectedExit?.(child, exit)
    })
    return child
  }

  /** `name |`, padded so that every process's lines line up (coloured on a terminal). */
  prefix(name: string, color?: number): string {
    const padded = `${name.padEnd(this.width)} |`
    return this.options.colors && color !== undefined ? `\u001b[${color}m${padded}\u001b[0m` : padded
  }

  list(): readonly ManagedChild[] {
    return this.children
  }

  running(): ManagedChild[] {
    return this.children.filter(c => c.running())
  }

  /** Sends `signal` to one process and marks its exit as expected. */
  signal(name: string, signal: NodeJS.Signals): void {
    this.signalled.add(name)
    const proc = this.processes.get(name)
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      try {
        proc.kill(signal)
      } catch {
        // already gone
      }
    }
  }

  /**
   * Stops the named processes together: SIGTERM, then SIGKILL for those still running after
   * `timeoutMs`. Resolves once every one of them has exited; returns the names that had to be killed.
   */
  async stop(names: readonly string[], timeoutMs: number): Promise<string[]> {
    const targets = this.children.filter(c => names.includes(c.name))
    for (const child of targets) this.signal(child.name, 'SIGTERM')
    const killed: string[] = []
    await Promise.all(
      targets.map(async child => {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<'late'>(resolve => {
          timer = setTimeout(() => resolve('late'), timeoutMs)
        })
        const result = await Promise.race([child.exited, late])
        clearTimeout(timer)
        if (result === 'late') {
          killed.push(child.name)
          this.signal(child.name, 'SIGKILL')
          await child.exited
        }
      }),
    )
    return killed
  }

  /** SIGKILL to every process still running, synchronously (the launcher's last resort on exit). */
  killAll(): void {
    for (const child of this.children) if (child.running()) this.signal(child.name, 'SIGKILL')
  }
}
