import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { INGEST_NODE_FLAGS } from '@ucd/ingest'
import { httpOk, redactUrl, sleep } from '@ucd/testing'
import { parseSimEnv } from '@ucd/usercom-sim'
import { REPO_ROOT } from '../files'
import { validateAppConfigs } from './app-configs'
import { printBanner } from './banner'
import { StackError } from './errors'
import { checkPreviousStack } from './leftovers'
import { planTenants, reachableHost, TENANT_VARS, type StackEnv, type TenantPlan } from './plan'
import { pickFreePort } from './ports'
import { chooseStackPorts } from './stack-ports'
import { chooseRedis, findRedisServer, pingRedis, redisServerArgs } from './redis'
import {
  removeStackInfo,
  stackDir,
  TENANTS_FILE_NAME,
  writePrivateFile,
  writeStackInfo,
  type StackInfo,
  type StackProcessInfo,
} from './stack-info'
import { describeExit, Supervisor, type ChildSpec, type ManagedChild, type TextOut } from './supervisor'

// The local stack behind `npm start`: Redis, the User.com simulator (unless a real User.com is
// configured), the ingest and two workers, each ready before the next step, stopped together.

const DEFAULT_READY_TIMEOUT_MS = 60_000
/** How long a stage (ingest, workers, simulator, Redis) may take to stop before SIGKILL, beyond its own drain. */
const STOP_MARGIN_MS = 10_000

export interface StackOptions {
  /** The launcher's environment (`process.env` in main.ts). */
  env: StackEnv
  out: TextOut
  err: TextOut
  /** Colour prefixes and ask the apps for pretty logs (the launcher's stdout is a terminal). */
  tty?: boolean
  /** Where a running Redis is looked for when REDIS_URL is not set (tests pass a dead port). */
  localRedisUrl?: string
  /** Finds redis-server (default: on the env's PATH). */
  findRedisServer?: () => string | undefined
  readyTimeoutMs?: number
  /** The Node.js binary for the apps. */
  nodePath?: string
  /** The repository root (the apps' `dist/main.js` are under it). */
  root?: string
}

export interface StackHandle {
  /** Resolves with stack.json's content once every process is ready; rejects when the stack never came up. */
  readonly ready: Promise<StackInfo>
  /** Resolves with the exit code once everything the stack started has exited: 0 after stop(), 1 after a failure. */
  readonly done: Promise<number>
  /** Stops everything in order (SIGTERM, then SIGKILL after a bound). */
  stop(reason: string): void
  /** SIGKILL to everything still running, at once. */
  kill(): void
  /** The processes started so far (also while starting up). */
  processes(): StackProcessInfo[]
}

class Stopped extends Error {
  constructor() {
    super('stopped')
    this.name = 'Stopped'
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

export function startStack(options: StackOptions): StackHandle {
  const env = options.env
  const out = options.out
  const say = (line = ''): void => void out.write(`${line}\n`)
  const log = (line: string): void => say(`${supervisor.prefix('stack', 1)} ${line}`)
  const root = options.root ?? REPO_ROOT
  const node = options.nodePath ?? process.execPath
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
  const dir = stackDir(env.LOCAL_STACK_DIR)
  const shown = (path: string): string => {
    const rel = relative(process.cwd(), path)
    return rel && !rel.startsWith('..') ? rel : path
  }

  let stopReason: string | undefined
  let failure: string | undefined
  let wake: () => void = () => undefined
  const stopRequested = new Promise<void>(resolve => (wake = resolve))
  const requestStop = (reason: string, failed: boolean): void => {
    if (failed && failure === undefined && stopReason === undefined) failure = reason
    if (stopReason !== undefined) return
    stopReason = reason
    wake()
  }
  const supervisor = new Supervisor({
    out,
    colors: options.tty === true,
    onUnexpectedExit: (child, exit) =>
      requestStop(
        `${child.name} (pid ${child.pid}) exited unexpectedly (${describeExit(exit)}); its last lines are above, prefixed "${child.name} |"`,
        true,
      ),
  })

  const processes = (): StackProcessInfo[] =>
    supervisor.list().map(c => ({ name: c.name, pid: c.pid, command: c.command }))

  const checkStopped = (): void => {
    if (stopReason !== undefined) throw new Stopped()
  }

  async function waitReady(child: ManagedChild, what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs
    for (;;) {
      checkStopped()
      if (!child.running()) {
        const exit = await child.exited
        throw new StackError(
          'UCD_ERR_STACK_PROCESS',
          `${child.name} exited before it was ready (${describeExit(exit)}); its last lines are above, prefixed "${child.name} |"`,
        )
      }
      if (await check()) return
      if (Date.now() > deadline) {
        throw new StackError(
          'UCD_ERR_STACK_PROCESS',
          `${child.name} was not ready within ${readyTimeoutMs / 1000} s (${what} did not answer)`,
        )
      }
      await Promise.race([sleep(200), stopRequested])
    }
  }

  /** The workers' drain time (WORKER_DRAIN_TIMEOUT_MS), once their settings are read. */
  let drainMs = 25_000
  let tempRedisDir: string | undefined
  let tenantsFilePath: string | undefined
  let wroteInfo = false
  let resolveReady: (info: StackInfo) => void = () => undefined
  let rejectReady: (error: Error) => void = () => undefined
  const ready = new Promise<StackInfo>((resolve, reject) => {
    resolveReady = resolve
    rejectReady = reject
  })
  // A caller that only awaits `done` must not see an unhandled rejection.
  ready.catch(() => undefined)

  async function up(): Promise<StackInfo> {
    checkPreviousStack(dir, log, shown)
    const plan: TenantPlan = planTenants(env)

    // Redis: decide first, so a missing Redis is said before anything starts.
    const redisChoice = await chooseRedis({
      redisUrl: env.REDIS_URL,
      localUrl: options.localRedisUrl,
      findBinary: options.findRedisServer ?? (() => findRedisServer(env.PATH)),
    })
    checkStopped()

    // Ports: each free (or said why not) before anything listens.
    const taken = new Set<number>()
    const { ingestHost, metricsHost, simHost, ingestPort, ingestMetricsPort, simPort, metricsPorts, notes } =
      await chooseStackPorts(env, plan.mode === 'simulator', taken)
    let redisPort: number | undefined
    if (redisChoice.kind === 'server') {
      redisPort = await pickFreePort('127.0.0.1', taken)
      taken.add(redisPort)
    }
    const redisUrl = redisChoice.kind === 'url' ? redisChoice.url : `redis://127.0.0.1:${String(redisPort)}`
    const queuePrefix = env.QUEUE_PREFIX?.trim() || 'ucd'
    checkStopped()

    // Settings of each app.
    mkdirSync(dir, { recursive: true })
    const simOrigin = simPort === undefined ? undefined : `http://${simHost}:${simPort}`
    const simBaseUrl = simOrigin === undefined ? undefined : `${simOrigin}/api/public/`
    const common: Record<string, string | undefined> = {
      ...env,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      LOG_PRETTY: env.LOG_PRETTY ?? (options.tty ? '1' : undefined),
    }
    if (plan.mode === 'simulator') {
      tenantsFilePath = join(dir, TENANTS_FILE_NAME)
      writePrivateFile(tenantsFilePath, plan.tenantsFile(simBaseUrl ?? ''))
      for (const name of TENANT_VARS) common[name] = undefined
      common.TENANTS_FILE = tenantsFilePath
    } else {
      Object.assign(common, plan.env)
    }
    const ingestEnv = {
      ...common,
      INGEST_HOST: ingestHost,
      INGEST_PORT: String(ingestPort),
      INGEST_METRICS_HOST: metricsHost,
      INGEST_METRICS_PORT: String(ingestMetricsPort),
    }
    const workerEnvs = metricsPorts.map(port => ({
      ...common,
      METRICS_HOST: metricsHost,
      METRICS_PORT: String(port),
    }))
    const simEnv = {
      ...common,
      SIM_HOST: simHost,
      SIM_PORT: String(simPort ?? 0),
      SIM_KEYS: plan.mode === 'simulator' ? plan.simKeys : undefined,
    }
    const { ingest: ingestConfig, worker: workerConfig } = validateAppConfigs(
      ingestEnv,
      workerEnvs[0] ?? common,
    )
    drainMs = workerConfig.worker.drainTimeoutMs
    if (plan.mode === 'simulator') {
      const sim = parseSimEnv(simEnv, [])
      if (!sim.ok) {
        throw new StackError(
          'UCD_ERR_STACK_CONFIG',
          `The simulator's settings are not valid:\n${sim.problems.map(p => `  - ${p}`).join('\n')}`,
        )
      }
    }

    const redisSource =
      redisChoice.kind === 'server'
        ? `its own redis-server on 127.0.0.1:${String(redisPort)} (nothing persisted; stopped on exit)`
        : `${redactUrl(redisUrl)} (${redisChoice.source === 'REDIS_URL' ? 'REDIS_URL' : 'a Redis already running there'})`
    log(plan.summary)
    log(`Redis: ${redisSource}, queue prefix "${queuePrefix}"`)
    for (const line of notes) log(line)

    // Redis first, then the apps together.
    if (redisChoice.kind === 'server') {
      tempRedisDir = mkdtempSync(join(tmpdir(), 'ucd-stack-redis-'))
      const redis = await supervisor.start({
        name: 'redis-server',
        command: redisChoice.binary,
        args: redisServerArgs(redisPort ?? 0, tempRedisDir),
        env: { PATH: env.PATH, HOME: env.HOME },
      })
      await waitReady(redis, redisUrl, () => pingRedis(redisUrl, 500))
    }
    checkStopped()
    const starting: { child: ManagedChild; url: string }[] = []
    /** Starts apps/<app>'s build under `name`, to be waited for at `readyUrl` with the others. */
    const startApp = async (
      name: string,
      app: string,
      appEnv: ChildSpec['env'],
      readyUrl: string,
      nodeFlags: readonly string[] = [],
    ): Promise<void> => {
      const child = await supervisor.start({
        name,
        command: node,
        args: [...nodeFlags, join(root, 'apps', app, 'dist', 'main.js')],
        env: appEnv,
        cwd: root,
      })
      starting.push({ child, url: readyUrl })
    }
    if (simOrigin !== undefined) {
      await startApp('usercom-sim', 'usercom-sim', simEnv, `${simOrigin}/__sim/health`)
    }
    const ingestUrl = `http://${reachableHost(ingestHost)}:${ingestPort}`
    await startApp('ingest', 'ingest', ingestEnv, `${ingestUrl}/health/ready`, INGEST_NODE_FLAGS)
    const workers: StackInfo['workers'] = []
    for (const [index, workerEnv] of workerEnvs.entries()) {
      const name = `worker-${index + 1}`
      const metricsUrl = `http://${reachableHost(metricsHost)}:${workerEnv.METRICS_PORT}`
      await startApp(name, 'worker', workerEnv, `${metricsUrl}/health/ready`)
      workers.push({ name, metricsUrl, port: Number(workerEnv.METRICS_PORT) })
    }
    await Promise.all(starting.map(({ child, url }) => waitReady(child, url, () => httpOk(url))))
    checkStopped()

    const adminEnv = { REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix }
    const info: StackInfo = {
      version: 1,
      startedAt: new Date().toISOString(),
      launcherPid: process.pid,
      mode: plan.mode,
      redis: {
        url: redisUrl,
        source: redisChoice.kind === 'server' ? 'redis-server' : redisChoice.source,
        ...(tempRedisDir ? { dir: tempRedisDir } : {}),
      },
      queuePrefix,
      ingest: {
        url: ingestUrl,
        port: ingestPort,
        metricsUrl: `http://${reachableHost(metricsHost)}:${ingestMetricsPort}`,
      },
      simulator:
        simOrigin === undefined || plan.mode !== 'simulator'
          ? null
          : {
              origin: simOrigin,
              baseUrl: simBaseUrl ?? '',
              port: simPort ?? 0,
              apps: Object.fromEntries(plan.tenants.map(t => [t.id, t.app])),
            },
      workers,
      tenantsFile:
        ingestConfig.tenants.list.length > 0 ? (tenantsFilePath ?? env.TENANTS_FILE ?? null) : null,
      tenants: ingestConfig.tenants.list.map(t => ({ id: t.id, writeKeys: [...t.writeKeys] })),
      processes: processes(),
      adminEnv,
    }
    const infoPath = writeStackInfo(dir, info)
    wroteInfo = true
    printBanner(say, shown, info, infoPath, workerConfig)
    return info
  }

  async function down(): Promise<void> {
    const stages = [
      ['ingest'],
      supervisor
        .list()
        .filter(c => c.name.startsWith('worker-'))
        .map(c => c.name),
      ['usercom-sim'],
      ['redis-server'],
    ]
    for (const stage of stages) {
      const names = stage.filter(name => supervisor.list().some(c => c.name === name && c.running()))
      if (names.length === 0) continue
      const bound = names.some(n => n.startsWith('worker-'))
        ? drainMs + STOP_MARGIN_MS
        : STOP_MARGIN_MS + 5_000
      const killed = await supervisor.stop(names, bound)
      for (const name of killed) log(`${name} did not stop within ${bound / 1000} s: killed (SIGKILL)`)
    }
    // Every process has exited once stop() returned; make sure of it before saying so.
    await Promise.all(supervisor.list().map(c => c.exited))
  }

  function cleanUp(): void {
    if (wroteInfo) removeStackInfo(dir, process.pid)
    if (tenantsFilePath) rmSync(tenantsFilePath, { force: true })
    if (tempRedisDir) rmSync(tempRedisDir, { recursive: true, force: true })
  }

  const done = (async (): Promise<number> => {
    try {
      const info = await up()
      resolveReady(info)
      await stopRequested
    } catch (error) {
      if (!(error instanceof Stopped)) {
        const message = error instanceof Error ? error.message : String(error)
        if (failure === undefined) failure = message
        if (stopReason === undefined) stopReason = message
      }
      rejectReady(
        error instanceof StackError
          ? error
          : new StackError(
              'UCD_ERR_STACK_PROCESS',
              failure ?? `stopped before it was up (${stopReason ?? ''})`,
            ),
      )
    }
    const started = supervisor.list()
    if (failure !== undefined) options.err.write(`\nstack: ${failure}\n`)
    if (started.length > 0) {
      log(
        `stopping ${started.length} processes (${failure === undefined ? (stopReason ?? 'stop') : 'failure'})...`,
      )
    }
    try {
      await down()
    } finally {
      cleanUp()
    }
    if (started.length > 0) {
      const pids = started.map(c => `${c.name} ${c.pid}`).join(', ')
      log(`stopped: every process the stack started has exited (${pids})`)
    }
    return failure === undefined ? 0 : 1
  })()

  return {
    ready,
    done,
    stop: reason => requestStop(reason, false),
    processes,
    kill: () => {
      requestStop('killed', false)
      supervisor.killAll()
      // Also when called from the launcher's 'exit' handler, where nothing asynchronous runs any more.
      cleanUp()
    },
  }
}
