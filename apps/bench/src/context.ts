import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { SimAdmin } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import type { ProcessGroup, Child } from './procs'
import { startHttp } from './procs'
import type { LoadSample } from './results'
import { round } from './stats'

/** The processes `--profile` can run under `node --cpu-prof`. */
export const PROFILED_APPS = [
  'ingest',
  'worker',
  'bare-worker',
  'bare-addbulk',
  'bare-fastify',
  'sim',
] as const
export type ProfiledApp = (typeof PROFILED_APPS)[number]

/** How long and how much each section runs. */
export interface ModeSettings {
  mode: 'quick' | 'full'
  /** autocannon / addBulk loop: parallel connections or loops. */
  connections: number
  warmupSeconds: number
  /** Length of one ingest or addBulk round, and how many rounds of each (alternating). */
  ingestSeconds: number
  ingestRounds: number
  /** Aim of each worker drain, in seconds (the event count is sized from the expected rate). */
  drainSeconds: number
  /** Rounds of each worker configuration (the median is shown). */
  workerRounds: number
  latencies: readonly number[]
  concurrencies: readonly number[]
  scaleProcesses: readonly number[]
  scaleConcurrency: number
  scaleLatencyMs: number
  /** Events (markers, DLQ records) per memory measurement. */
  memoryEvents: number
  /** Users the track events are spread over. */
  users: number
  /** Calls of normalizeEvent and of planEvent per fuzz case (the median is the case's figure). */
  fuzzRepetitions: number
}

/** The settings quick and full runs share. */
const COMMON_SETTINGS = {
  connections: 10,
  latencies: [0, 50],
  concurrencies: [1, 10, 50, 200],
  scaleProcesses: [1, 2, 4],
  scaleConcurrency: 50,
  scaleLatencyMs: 50,
  users: 50,
} as const satisfies Partial<ModeSettings>

export const MODES: Record<ModeSettings['mode'], ModeSettings> = {
  quick: {
    mode: 'quick',
    ...COMMON_SETTINGS,
    warmupSeconds: 1,
    ingestSeconds: 3,
    ingestRounds: 1,
    drainSeconds: 2,
    workerRounds: 1,
    memoryEvents: 5_000,
    fuzzRepetitions: 7,
  },
  full: {
    mode: 'full',
    ...COMMON_SETTINGS,
    warmupSeconds: 2,
    ingestSeconds: 6,
    ingestRounds: 3,
    drainSeconds: 6,
    workerRounds: 3,
    memoryEvents: 20_000,
    fuzzRepetitions: 15,
  },
}

/** Compiled entry points of the processes a run starts. */
export interface Paths {
  ingest: string
  worker: string
  sim: string
  bareFastify: string
  bareProducer: string
  bareWorker: string
}

/**
 * The apps of this workspace, or those of another checkout (`appsFrom`, its root folder: built with
 * `pnpm build`), e.g. main before a change, measured with this same harness.
 */
export function resolvePaths(appsFrom?: string): Paths {
  const appMain = (pkg: string): string =>
    appsFrom === undefined
      ? join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js')
      : join(appsFrom, 'apps', pkg.replace('@ucd/', ''), 'dist', 'main.js')
  return {
    ingest: appMain('@ucd/ingest'),
    worker: appMain('@ucd/worker'),
    sim: appMain('@ucd/usercom-sim'),
    bareFastify: join(__dirname, 'bare', 'fastify.js'),
    bareProducer: join(__dirname, 'bare', 'producer.js'),
    bareWorker: join(__dirname, 'bare', 'worker.js'),
  }
}

export const WRITE_KEY = 'bench-write-key'
export const SIM_API_KEY = 'bench-usercom-key'
export const SIM_APP = 'bench'
/** Production default: one JSON line per ingest request, per-job lines only at debug in the worker. */
export const APP_LOG_LEVEL = 'info'

export interface Simulator {
  origin: string
  baseUrl: string
  admin: SimAdmin
  child: Child
}

/** The load average now (1, 5 and 15 minutes), rounded. */
export function loadSample(phase: string): LoadSample {
  const [one = 0, five = 0, fifteen = 0] = loadavg()
  return { at: new Date().toISOString(), phase, loadavg: [round(one, 2), round(five, 2), round(fifteen, 2)] }
}

export class BenchContext {
  readonly load: LoadSample[] = []
  readonly notes: string[] = []
  private prefixes = 0
  private simulator: Simulator | undefined

  constructor(
    readonly settings: ModeSettings,
    readonly paths: Paths,
    readonly group: ProcessGroup,
    /** The private redis-server of this run: flushing it is safe. */
    readonly redisUrl: string,
    readonly redis: Redis,
    /** pid of the private redis-server (for its CPU time). */
    readonly redisPid: number | undefined,
    readonly logDir: string,
    /** Node flags for the apps under test (e.g. --cpu-prof), by app. */
    readonly nodeArgs: (app: ProfiledApp) => string[],
    readonly log: (message: string) => void,
  ) {}

  /** A fresh QUEUE_PREFIX as long as the default `ucd` (so key sizes are the production ones). */
  prefix(): string {
    this.prefixes += 1
    return `u${this.prefixes.toString(36).padStart(2, '0')}`
  }

  /** Records the load average now; returns the 1-minute value. */
  sample(phase: string): number {
    const sample = loadSample(phase)
    this.load.push(sample)
    return sample.loadavg[0]
  }

  /**
   * Empties the private Redis and hands its freed memory back to the system at once (`MEMORY PURGE`):
   * otherwise jemalloc's background thread purges the hundreds of MB of a previous run over the next
   * ten seconds or so, during the next measured run. Ad-hoc harness, open loop at 8,500 requests/s after
   * 500,000 keys of 1.2 KB were flushed: p99 9–26 ms over 10 runs (median 18) without the purge, 8–13 ms
   * in 6 of 7 with it (one 30 ms), 9–10 ms in 3 runs on a Redis never filled.
   */
  async flush(): Promise<void> {
    await this.redis.flushall()
    await this.redis.call('MEMORY', 'PURGE')
  }

  async usedMemory(): Promise<number> {
    const info = await this.redis.info('memory')
    const match = /^used_memory:(\d+)/m.exec(info)
    if (!match?.[1]) throw new Error('INFO memory has no used_memory')
    return Number(match[1])
  }

  /** MEMORY USAGE of the keys that exist (0 for the others). */
  async keyBytes(keys: readonly string[]): Promise<number> {
    let total = 0
    for (const key of keys) {
      const bytes = (await this.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null
      total += bytes ?? 0
    }
    return total
  }

  /** The simulator process (started on first use, kept for the run). */
  async sim(): Promise<Simulator> {
    if (this.simulator?.child.running()) return this.simulator
    const { child, origin } = await startHttp(
      'the simulator',
      port =>
        this.group.spawnNode('usercom-sim', this.paths.sim, {
          nodeArgs: this.nodeArgs('sim'),
          env: {
            SIM_HOST: '127.0.0.1',
            SIM_PORT: String(port),
            SIM_KEYS: `${SIM_API_KEY}:${SIM_APP}`,
            LOG_LEVEL: 'warn',
          },
        }),
      '/__sim/health',
    )
    this.simulator = { origin, baseUrl: `${origin}/api/public/`, admin: new SimAdmin(origin), child }
    return this.simulator
  }

  /** Environment of an ingest process. */
  ingestEnv(prefix: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: prefix,
      INGEST_HOST: '127.0.0.1',
      INGEST_PORT: String(port),
      SEGMENT_WRITE_KEY: WRITE_KEY,
      LOG_LEVEL: APP_LOG_LEVEL,
      // /metrics on a free port: a fixed one could be taken by another run on the machine.
      INGEST_METRICS_PORT: '0',
      ...extra,
    }
  }

  /** Environment of a worker process. */
  workerEnv(
    prefix: string,
    sim: Simulator,
    concurrency: number,
    metricsPort: number,
  ): Record<string, string> {
    return {
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: prefix,
      SEGMENT_WRITE_KEY: WRITE_KEY,
      USERCOM_API_KEY: SIM_API_KEY,
      USERCOM_BASE_URL: sim.baseUrl,
      WORKER_CONCURRENCY: String(concurrency),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: APP_LOG_LEVEL,
    }
  }
}
