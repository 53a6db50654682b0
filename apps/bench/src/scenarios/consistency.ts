import { userKey } from '@ucd/delivery'
import {
  createEventsQueue,
  createRedisConnection,
  eventJobId,
  waitUntilReady,
  type EventJobData,
} from '@ucd/queue'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { sleep } from '@ucd/testing'
import type { BenchContext, Simulator } from '../context'
import { SIM_APP } from '../context'
import { cpuTimeMs, spawnHttp, type Child } from '../procs'
import { medianBy, ratio, round } from '../stats'
import type { Table } from '../table'
import { TENANT_ID, userIdOf } from '../workload'

// `--only consistency` (issue 14): an identify-heavy drain with per-user consistency on and off in the
// same run (WORKER_CONSISTENCY, a switch for this comparison only), rounds alternating, and the Redis
// bytes of one user's field clocks with 20 values (MEMORY USAGE of the clock key).
//
// One run: flush Redis, reset the simulator, pre-fill a paused queue with one identify per user
// (warm-up: users and attributes created, catalog cached) and then N identifies of 20 values each
// (users in turn, event times increasing), start one worker process, resume, and count
// `POST /users/update_or_create/` answered 200 at the simulator from the end of the warm-up until all.

export const IDENTIFY_USERS = 200
/** email, first and last name (standard fields) and 17 custom attributes. */
export const VALUES_PER_IDENTIFY = 20
const CONCURRENCY = 50
const POLL_MS = 20
/** Identifies per run: this many per `drainSeconds` (about a second each on this machine). */
const IDENTIFIES_PER_DRAIN_SECOND = 1000

export interface ConsistencyRun {
  consistency: 'on' | 'off'
  round: number
  latencyMs: number
  concurrency: number
  identifies: number
  seconds: number
  identifiesPerSec: number
  workerCpuUsPerIdentify: number
  loadavg1: number
}

export interface ConsistencySection {
  users: number
  valuesPerIdentify: number
  runs: ConsistencyRun[]
  /** MEMORY USAGE of a user's clock hash (20 fields), mean over every user, after an `on` run. */
  clockBytesPerUser?: number
  /** Median on / median off per latency. */
  ratios: Array<{ latencyMs: number; ratio?: number }>
}

function identify(user: number, version: number, at: string, messageId: string): Record<string, unknown> {
  const custom: Record<string, string> = {}
  for (let i = 1; i <= VALUES_PER_IDENTIFY - 3; i += 1)
    custom[`attr_${String(i).padStart(2, '0')}`] = `v${version}-${i}`
  return {
    type: 'identify',
    userId: userIdOf(user),
    messageId,
    timestamp: at,
    traits: {
      email: `user${user}.v${version}@example.com`,
      firstName: `F${version}`,
      lastName: `L${version}`,
      ...custom,
    },
    context: { library: { name: 'analytics-node', version: '3.1.0' } },
  }
}

async function upserts(sim: Simulator): Promise<number> {
  const summary = await sim.admin.summary()
  return summary.apps[SIM_APP]?.requests['POST /users/update_or_create/']?.['200'] ?? 0
}

async function prefillIdentifies(ctx: BenchContext, prefix: string, total: number) {
  const connection = createRedisConnection(ctx.redisUrl, 'producer', { commandTimeoutMs: 30_000 })
  await waitUntilReady(connection)
  const queue = createEventsQueue(connection, prefix)
  await queue.pause()
  const receivedAt = new Date()
  const start = receivedAt.getTime() - 3_600_000
  for (let from = 0; from < total; from += 1000) {
    const jobs = []
    for (let seq = from; seq < Math.min(total, from + 1000); seq += 1) {
      const messageId = `${prefix}-${String(seq).padStart(10, '0')}`
      const raw = identify(
        seq % IDENTIFY_USERS,
        Math.floor(seq / IDENTIFY_USERS),
        new Date(start + seq).toISOString(),
        messageId,
      )
      const normalized = normalizeEvent(raw, { receivedAt })
      if (!normalized.ok)
        throw new Error(`the identify does not validate: ${JSON.stringify(normalized.errors)}`)
      const event: SegmentEvent = normalized.event
      const data: EventJobData = { tenantId: TENANT_ID, event, receivedAt: receivedAt.toISOString() }
      jobs.push({ name: event.type, data, opts: { jobId: eventJobId(TENANT_ID, messageId) } })
    }
    await queue.addBulk(jobs)
  }
  return {
    queue,
    close: async () => {
      await queue.close()
      await connection.quit()
    },
  }
}

async function drainIdentifies(
  ctx: BenchContext,
  spec: { consistency: 'on' | 'off'; round: number; latencyMs: number; identifies: number },
): Promise<{ run: ConsistencyRun; prefix: string }> {
  const sim = await ctx.sim()
  await ctx.flush()
  await sim.admin.reset()
  await sim.admin.setFaults({ latencyMs: spec.latencyMs })
  const prefix = ctx.prefix()
  const total = IDENTIFY_USERS + spec.identifies
  const filled = await prefillIdentifies(ctx, prefix, total)
  let child: Child | undefined
  try {
    const worker = await spawnHttp(
      'the worker to be ready',
      metricsPort =>
        ctx.group.spawnNode('worker', ctx.paths.worker, {
          env: {
            ...ctx.workerEnv(prefix, sim, CONCURRENCY, metricsPort),
            WORKER_CONSISTENCY: spec.consistency === 'on' ? 'true' : 'false',
          },
          nodeArgs: ctx.nodeArgs('worker'),
        }),
      '/health/ready',
    )
    child = worker.child
    await worker.ready()
    const started = performance.now()
    const timeoutMs = Math.max(60_000, (total / 20) * 1000)
    await filled.queue.resume()
    let t0: number | undefined
    let c0 = 0
    let cpu0 = 0
    let done = 0
    for (;;) {
      done = await upserts(sim)
      if (t0 === undefined && done >= IDENTIFY_USERS) {
        t0 = performance.now()
        c0 = done
        cpu0 = cpuTimeMs(child.pid) ?? 0
      }
      if (done >= total) break
      if (performance.now() - started > timeoutMs)
        throw new Error(`identify drain timed out: ${done} of ${total}`)
      if (!child.running())
        throw new Error(`the worker exited during the drain:\n${child.output().slice(-3000)}`)
      await sleep(POLL_MS)
    }
    const windowMs = performance.now() - (t0 ?? started)
    const measured = done - c0
    const cpuMs = (cpuTimeMs(child.pid) ?? 0) - cpu0
    const run: ConsistencyRun = {
      consistency: spec.consistency,
      round: spec.round,
      latencyMs: spec.latencyMs,
      concurrency: CONCURRENCY,
      identifies: measured,
      seconds: round(windowMs / 1000, 3),
      identifiesPerSec: round((measured * 1000) / windowMs, 1),
      workerCpuUsPerIdentify: measured > 0 ? round((cpuMs * 1000) / measured, 1) : 0,
      loadavg1: ctx.sample(`identify consistency ${spec.consistency} ${spec.latencyMs}ms`),
    }
    ctx.log(
      `  ${spec.round === 0 ? 'warm-up, ' : ''}consistency ${spec.consistency}, ${spec.latencyMs} ms: ` +
        `${Math.round(run.identifiesPerSec)} identifies/s ` +
        `(${measured} in ${run.seconds} s), worker CPU ${run.workerCpuUsPerIdentify} µs/identify`,
    )
    return { run, prefix }
  } finally {
    await child?.stop(30_000)
    await filled.close()
  }
}

/** Mean MEMORY USAGE of every user's clock hash (its 20 fields), after an `on` run under `prefix`. */
async function clockBytesPerUser(ctx: BenchContext, prefix: string): Promise<number> {
  const keys = Array.from({ length: IDENTIFY_USERS }, (_, u) =>
    userKey(prefix, TENANT_ID, userIdOf(u), 'clock'),
  )
  const fields = await ctx.redis.hlen(keys[0] ?? '')
  if (fields !== VALUES_PER_IDENTIFY)
    throw new Error(`a clock hash has ${fields} fields, not ${VALUES_PER_IDENTIFY}`)
  return round((await ctx.keyBytes(keys)) / keys.length, 1)
}

export async function runConsistencySection(ctx: BenchContext): Promise<ConsistencySection> {
  const runs: ConsistencyRun[] = []
  let clockBytes: number | undefined
  const latencies = ctx.settings.latencies
  // One drain first, not measured: the simulator's and Redis's first identifies (JIT, script cache)
  // would otherwise slow whichever side runs first. Rounds then alternate which side goes first.
  ctx.log('consistency: warm-up drain (not measured)')
  const warmup = Math.round((IDENTIFIES_PER_DRAIN_SECOND * ctx.settings.drainSeconds) / 2)
  await drainIdentifies(ctx, { consistency: 'on', round: 0, latencyMs: 0, identifies: warmup })
  for (const latencyMs of latencies) {
    ctx.log(`consistency: identify-heavy, simulator latency ${latencyMs} ms, concurrency ${CONCURRENCY}`)
    for (let r = 1; r <= ctx.settings.workerRounds; r += 1) {
      const order = r % 2 === 1 ? (['on', 'off'] as const) : (['off', 'on'] as const)
      for (const consistency of order) {
        // The same number in every run: a shorter run would weigh the new worker's warm-up more.
        const identifies = Math.round(IDENTIFIES_PER_DRAIN_SECOND * ctx.settings.drainSeconds)
        const { run, prefix } = await drainIdentifies(ctx, { consistency, round: r, latencyMs, identifies })
        runs.push(run)
        if (consistency === 'on' && clockBytes === undefined)
          clockBytes = await clockBytesPerUser(ctx, prefix)
      }
    }
  }
  const median = (latencyMs: number, c: 'on' | 'off') =>
    medianBy(
      runs.filter(x => x.latencyMs === latencyMs && x.consistency === c),
      x => x.identifiesPerSec,
    )?.identifiesPerSec
  return {
    users: IDENTIFY_USERS,
    valuesPerIdentify: VALUES_PER_IDENTIFY,
    runs,
    ...(clockBytes === undefined ? {} : { clockBytesPerUser: clockBytes }),
    ratios: latencies.map(latencyMs => {
      const value = ratio(median(latencyMs, 'on'), median(latencyMs, 'off'))
      return { latencyMs, ...(value === undefined ? {} : { ratio: round(value, 3) }) }
    }),
  }
}

/** The section's table in the report. */
export function consistencyTable(section: ConsistencySection | undefined): Table | undefined {
  if (!section) return undefined
  const rows = section.ratios.map(({ latencyMs, ratio: r }) => {
    const on = medianBy(
      section.runs.filter(x => x.latencyMs === latencyMs && x.consistency === 'on'),
      x => x.identifiesPerSec,
    )
    const off = medianBy(
      section.runs.filter(x => x.latencyMs === latencyMs && x.consistency === 'off'),
      x => x.identifiesPerSec,
    )
    return [
      `${latencyMs} ms`,
      String(Math.round(on?.identifiesPerSec ?? 0)),
      String(Math.round(off?.identifiesPerSec ?? 0)),
      r === undefined ? '-' : `${round(r * 100, 1)} %`,
      String(on?.workerCpuUsPerIdentify ?? '-'),
      String(off?.workerCpuUsPerIdentify ?? '-'),
    ]
  })
  return {
    title: `Per-user consistency: identifies of ${section.valuesPerIdentify} values, ${section.users} users, one worker, concurrency ${CONCURRENCY}`,
    columns: ['latency', 'on /s', 'off /s', 'on vs off', 'on CPU µs', 'off CPU µs'],
    rows,
    notes: [
      `Redis bytes per user (field clocks of ${section.valuesPerIdentify} values, MEMORY USAGE): ${section.clockBytesPerUser ?? '-'}`,
    ],
  }
}
