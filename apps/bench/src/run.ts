import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRedisServer, type RedisServerHandle } from '@ucd/testing'
import { INGEST_NODE_FLAGS } from '@ucd/ingest'
import { Redis } from 'ioredis'
import { BenchContext, MODES, loadSample, resolvePaths, type ModeSettings, type ProfiledApp } from './context'
import { stopLoad } from './load'
import { machineInfo } from './machine'
import { ProcessGroup } from './procs'
import { shippedMemorySettings } from './redis-conf'
import { renderProfileSummary, summarizeProfile, type CpuProfile } from './profile'
import type { BenchResults, LoadSample, MachineInfo } from './results'
import { runIngestSection } from './scenarios/ingest'
import { runConsistencySection } from './scenarios/consistency'
import { runClusterSection } from './scenarios/cluster'
import { runIsolationSection } from './scenarios/isolation'
import { runFuzzSection } from './scenarios/fuzz'
import { runLingerSection } from './scenarios/linger'
import { runMemorySection } from './scenarios/memory'
import { runWorkerSection } from './scenarios/worker'
import { round } from './stats'
import { checkTargets } from './targets'

export const SECTIONS = [
  'ingest',
  'worker',
  'scale',
  'memory',
  'fuzz',
  'consistency',
  'linger',
  'cluster',
  'isolation',
] as const
export type Section = (typeof SECTIONS)[number]

export interface RunOptions {
  mode: ModeSettings['mode']
  sections: readonly Section[]
  /** Environment the child processes start from (PATH etc.); their settings are added per process. */
  baseEnv: Readonly<Record<string, string | undefined>>
  /** Run these apps with `node --cpu-prof` and print their top frames. */
  profile: readonly ProfiledApp[]
  /** Where .cpuprofile files go. */
  profileDir: string
  keepLogs: boolean
  /** Root of another checkout whose apps (and redis.conf) to measure instead of this workspace's. */
  appsFrom?: string
  overrides?: Partial<ModeSettings>
  log: (message: string) => void
}

/** What a run leaves to clean up when it is interrupted. */
export interface Running {
  group: ProcessGroup
  redis?: RedisServerHandle
}

/** Variables the children may inherit; everything else (REDIS_URL, TENANTS_FILE, ...) is set per child. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT'] as const

export async function runBench(options: RunOptions, running: (r: Running) => void): Promise<BenchResults> {
  const startedAt = new Date()
  const settings: ModeSettings = { ...MODES[options.mode], ...options.overrides }
  const logDir = mkdtempSync(join(tmpdir(), 'ucd-bench-'))
  const env: Record<string, string | undefined> = {}
  for (const name of INHERITED) if (options.baseEnv[name] !== undefined) env[name] = options.baseEnv[name]
  const group = new ProcessGroup(logDir, env)
  const handles: Running = { group }
  running(handles)
  let failed = true
  try {
    const results = needsRedis(options.sections)
      ? await runWithRedis(options, settings, startedAt, { group, handles, logDir })
      : await runInProcess(options, settings, startedAt)
    failed = false
    return results
  } finally {
    stopLoad()
    await group.killAll()
    await handles.redis?.stop()
    if (options.profile.length > 0) printProfiles(options)
    if (!options.keepLogs && !failed) rmSync(logDir, { recursive: true, force: true })
    else options.log(`process logs kept in ${logDir}`)
  }
}

/** Sections that need the private redis-server (and child processes); `fuzz` runs in this process. */
function needsRedis(sections: readonly Section[]): boolean {
  return sections.some(section => section !== 'fuzz')
}

/** A run's results before any section: what it ran on. */
function emptyResults(
  settings: ModeSettings,
  startedAt: Date,
  machine: MachineInfo,
  load: LoadSample[],
  notes: string[],
): BenchResults {
  return {
    schema: 1,
    mode: settings.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationS: 0,
    machine,
    load,
    targets: [],
    notes,
  }
}

/** Targets, duration and the load note: the end of every run. */
function finish(results: BenchResults, startedAt: Date): BenchResults {
  const { load, notes } = results
  const { cores } = results.machine
  results.targets = checkTargets(results)
  const finishedAt = new Date()
  results.finishedAt = finishedAt.toISOString()
  results.durationS = round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1)
  const busy = load.filter(l => l.loadavg[0] > cores).length
  if (busy > 0) {
    notes.push(
      `the 1-minute load average was above the core count (${cores}) at ${busy} of ${load.length} samples: other work was running, figures may be noisy`,
    )
  }
  return results
}

function fuzzSection(options: RunOptions, settings: ModeSettings): BenchResults['fuzz'] {
  return options.sections.includes('fuzz')
    ? runFuzzSection({ repetitions: settings.fuzzRepetitions, log: options.log })
    : undefined
}

/** `--only fuzz`: no redis-server, no child process. */
async function runInProcess(
  options: RunOptions,
  settings: ModeSettings,
  startedAt: Date,
): Promise<BenchResults> {
  const load: LoadSample[] = [loadSample('start')]
  const notes: string[] = []
  const machine = await machineInfo()
  options.log(
    `bench (${settings.mode}): in-process sections only, load average ${load[0]?.loadavg.join(' ')}`,
  )
  const results = emptyResults(settings, startedAt, machine, load, notes)
  const fuzz = fuzzSection(options, settings)
  if (fuzz !== undefined) results.fuzz = fuzz
  load.push(loadSample('end'))
  return finish(results, startedAt)
}

async function runWithRedis(
  options: RunOptions,
  settings: ModeSettings,
  startedAt: Date,
  run: { group: ProcessGroup; handles: Running; logDir: string },
): Promise<BenchResults> {
  const { group, handles, logDir } = run
  const redisServer = await startRedisServer()
  handles.redis = redisServer
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 3 })
  try {
    if (options.profile.length > 0) mkdirSync(options.profileDir, { recursive: true })
    // The ingest runs with the flags it is deployed with (INGEST_NODE_FLAGS), also for --apps-from.
    const nodeArgs = (app: ProfiledApp): string[] => [
      ...(app === 'ingest' ? INGEST_NODE_FLAGS : []),
      ...(options.profile.includes(app)
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${options.profileDir}`,
            `--cpu-prof-name=${app}-${Date.now()}-\${pid}.cpuprofile`,
          ]
        : []),
    ]
    const ctx = new BenchContext(
      settings,
      resolvePaths(options.appsFrom),
      group,
      redisServer.url,
      redis,
      redisServer.pid,
      logDir,
      nodeArgs,
      options.log,
    )
    const redisSettings = shippedMemorySettings(options.appsFrom)
    for (const [name, value] of Object.entries(redisSettings)) await redis.config('SET', name, value)
    const machine = await machineInfo(redis)
    ctx.sample('start')
    options.log(
      `bench (${settings.mode}): private redis-server ${machine.versions.redisServer} at ${redisServer.url}, ` +
        `logs in ${logDir}, load average ${ctx.load[0]?.loadavg.join(' ')}`,
    )
    const results: BenchResults = {
      ...emptyResults(settings, startedAt, machine, ctx.load, ctx.notes),
      redis: { persistence: 'none', settings: redisSettings },
      ...(options.appsFrom === undefined ? {} : { appsFrom: options.appsFrom }),
    }
    if (options.sections.includes('ingest')) results.ingest = await runIngestSection(ctx)
    if (options.sections.includes('worker') || options.sections.includes('scale')) {
      results.worker = await runWorkerSection(ctx, {
        perConcurrency: options.sections.includes('worker'),
        scaleOut: options.sections.includes('scale'),
      })
    }
    if (options.sections.includes('memory')) results.memory = await runMemorySection(ctx)
    if (options.sections.includes('consistency')) results.consistency = await runConsistencySection(ctx)
    if (options.sections.includes('linger')) results.linger = await runLingerSection(ctx)
    if (options.sections.includes('cluster')) results.cluster = await runClusterSection(ctx)
    if (options.sections.includes('isolation')) results.isolation = await runIsolationSection(ctx)
    const fuzz = fuzzSection(options, settings)
    if (fuzz !== undefined) results.fuzz = fuzz
    ctx.sample('end')
    return finish(results, startedAt)
  } finally {
    await group.killAll()
    redis.disconnect()
  }
}

function printProfiles(options: RunOptions): void {
  let files: string[]
  try {
    files = readdirSync(options.profileDir).filter(f => f.endsWith('.cpuprofile'))
  } catch {
    return
  }
  for (const file of files.sort()) {
    try {
      const profile = JSON.parse(readFileSync(join(options.profileDir, file), 'utf8')) as CpuProfile
      options.log(renderProfileSummary(join(options.profileDir, file), summarizeProfile(profile, 30)))
    } catch (error) {
      options.log(`could not read ${file}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}
