import { sleep } from '@ucd/testing'
import {
  createEventsQueue,
  createRedisConnection,
  eventJobId,
  waitUntilReady,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import type { Redis } from 'ioredis'
import { SIM_API_KEY, SIM_APP, type BenchContext, type Simulator } from '../context'
import { cpuTimeMs, peakRssBytes, spawnHttp, waitUntil, type Child } from '../procs'
import type { DrainRun, WorkerSection } from '../results'
import { round } from '../stats'
import { EVENT_BYTES, messageIdOf, TENANT_ID, trackEvent, userIdOf } from '../workload'

// Sections 2 and 3: drain a pre-filled queue of tracks with our worker process(es) and with a bare
// BullMQ worker, against the simulator as its own process, and time it at the simulator.
//
// One run: flush Redis, reset the simulator, set its latency, pre-fill a paused queue with one track
// per user (warm-up) and then N tracks, start the worker process(es) and wait until they are ready,
// resume the queue, poll the simulator's event count: from the moment the warm-up events are in
// (t0, c0: every user's identity is cached from here on) until all are in (t1, c1),
// events/s = (c1 - c0) / (t1 - t0). CPU time of the workers, the simulator and Redis over the same window.

/** First guess of events/s at 0 ms latency, to size a run (later runs use what was measured). */
const GUESS_AT_ZERO_LATENCY = (concurrency: number): number => (concurrency === 1 ? 400 : 2500)
const POLL_MS = 20

export interface Prefilled {
  queue: EventsQueue
  connection: Redis
  close(): Promise<void>
}

/** N track jobs, as the ingest would have added them (normalised events, same job ids and options). */
export async function prefill(
  ctx: BenchContext,
  prefix: string,
  count: number,
  options: { paused: boolean; tag: string },
): Promise<Prefilled> {
  const connection = createRedisConnection(ctx.redisUrl, 'producer', { commandTimeoutMs: 30_000 })
  await waitUntilReady(connection)
  const queue = createEventsQueue(connection, prefix)
  if (options.paused) await queue.pause()
  const receivedAt = new Date()
  const timestamp = new Date(receivedAt.getTime() - 1000).toISOString()
  const base: SegmentEvent[] = Array.from({ length: ctx.settings.users }, (_, user) => {
    const normalized = normalizeEvent(trackEvent(user, messageIdOf(options.tag, 0), timestamp), {
      receivedAt,
    })
    if (!normalized.ok)
      throw new Error(`the benchmark's event does not validate: ${JSON.stringify(normalized.errors)}`)
    return normalized.event
  })
  const chunk = 1000
  for (let start = 0; start < count; start += chunk) {
    const jobs = []
    for (let seq = start; seq < Math.min(count, start + chunk); seq += 1) {
      const messageId = messageIdOf(options.tag, seq)
      const event = { ...base[seq % base.length], messageId } as SegmentEvent
      const data: EventJobData = { tenantId: TENANT_ID, event, receivedAt: receivedAt.toISOString() }
      jobs.push({ name: event.type, data, opts: { jobId: eventJobId(TENANT_ID, messageId) } })
    }
    await queue.addBulk(jobs)
  }
  return {
    queue,
    connection,
    close: async () => {
      await queue.close()
      await connection.quit()
    },
  }
}

/** Creates the users in the simulator (for the bare worker, which only posts events): custom_id → id. */
async function createUsers(sim: Simulator, users: number): Promise<Record<string, number>> {
  const ids: Record<string, number> = {}
  for (let user = 0; user < users; user += 1) {
    const response = await fetch(`${sim.baseUrl}users/update_or_create/`, {
      method: 'POST',
      headers: {
        authorization: `Token ${SIM_API_KEY}`,
        accept: '*/*; version=2',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ custom_id: userIdOf(user) }),
    })
    const body = (await response.json()) as { id?: number }
    if (!response.ok || typeof body.id !== 'number') throw new Error(`could not create ${userIdOf(user)}`)
    ids[userIdOf(user)] = body.id
  }
  return ids
}

/** The in-doubt lookups (event listings) the simulator answered, whatever their status. */
const LISTING = 'GET /users-by-id/:custom_id/events/'
async function listingRequests(sim: Simulator): Promise<number> {
  const summary = await sim.admin.summary()
  return Object.values(summary.apps[SIM_APP]?.requests[LISTING] ?? {}).reduce((a, b) => a + b, 0)
}

async function deliveredEvents(sim: Simulator): Promise<number> {
  const summary = await sim.admin.summary()
  return summary.apps[SIM_APP]?.totals.events ?? 0
}

export interface DrainSpec {
  impl: DrainRun['impl']
  round: number
  latencyMs: number
  concurrency: number
  processes: number
  events: number
}

/** One drain run (see the top of this file). */
export async function drain(ctx: BenchContext, spec: DrainSpec): Promise<DrainRun> {
  const sim = await ctx.sim()
  const { users } = ctx.settings
  await ctx.flush()
  await sim.admin.reset()
  const userIds = spec.impl === 'bare' ? await createUsers(sim, users) : {}
  await sim.admin.setFaults({ latencyMs: spec.latencyMs })
  const prefix = ctx.prefix()
  // The first `users` jobs (one per user, in order) warm the identity cache; the rest are measured.
  const total = users + spec.events
  const filled = await prefill(ctx, prefix, total, { paused: true, tag: prefix })
  const children: Child[] = []
  try {
    for (let i = 0; i < spec.processes; i += 1) {
      if (spec.impl === 'ucd') {
        const worker = await spawnHttp(
          'the worker to be ready',
          metricsPort =>
            ctx.group.spawnNode('worker', ctx.paths.worker, {
              env: ctx.workerEnv(prefix, sim, spec.concurrency, metricsPort),
              nodeArgs: ctx.nodeArgs('worker'),
            }),
          '/health/ready',
        )
        children.push(worker.child)
        await worker.ready()
      } else {
        const child = ctx.group.spawnNode('bare-worker', ctx.paths.bareWorker, {
          nodeArgs: ctx.nodeArgs('bare-worker'),
          args: [
            JSON.stringify({
              redisUrl: ctx.redisUrl,
              prefix,
              concurrency: spec.concurrency,
              baseUrl: sim.baseUrl,
              apiKey: SIM_API_KEY,
              userIds,
            }),
          ],
        })
        children.push(child)
        await waitUntil('the bare worker to be ready', () => child.output().includes('bare worker ready'), {
          child,
        })
      }
    }
    const before = await deliveredEvents(sim)
    if (before !== 0) throw new Error(`${before} events delivered while the queue was paused`)
    const ideal =
      spec.latencyMs > 0
        ? (spec.processes * spec.concurrency * 1000) / spec.latencyMs
        : Number.POSITIVE_INFINITY
    const timeoutMs = Math.max(30_000, (total / Math.min(ideal, 200)) * 1000)
    const started = performance.now()
    await filled.queue.resume()
    const cpuNow = () => ({
      workers: children.reduce((sum, c) => sum + (cpuTimeMs(c.pid) ?? 0), 0),
      simulator: cpuTimeMs(sim.child.pid) ?? 0,
      redis: ctx.redisPid === undefined ? 0 : (cpuTimeMs(ctx.redisPid) ?? 0),
    })
    let t0: number | undefined
    let c0 = 0
    let cpu0 = cpuNow()
    let delivered = 0
    for (;;) {
      delivered = await deliveredEvents(sim)
      if (t0 === undefined && delivered >= users) {
        t0 = performance.now()
        c0 = delivered
        cpu0 = cpuNow()
      }
      if (delivered >= total) break
      if (performance.now() - started > timeoutMs) {
        const counts = await filled.queue.getJobCounts()
        throw new Error(
          `drain timed out: ${delivered} of ${total} delivered after ${Math.round(timeoutMs / 1000)} s ` +
            `(queue: ${JSON.stringify(counts)})`,
        )
      }
      const dead = children.find(c => !c.running())
      if (dead) throw new Error(`${dead.name} exited during the drain:\n${dead.output().slice(-3000)}`)
      await sleep(POLL_MS)
    }
    const t1 = performance.now()
    const cpu1 = cpuNow()
    const windowMs = t1 - (t0 ?? started)
    const percent = (a: number, b: number): number => round(((b - a) / windowMs) * 100, 1)
    const measured = delivered - c0
    const rss = Math.max(...children.map(c => peakRssBytes(c.pid) ?? 0))
    const workerCpuMs = cpu1.workers - cpu0.workers
    const listings = await listingRequests(sim)
    const run: DrainRun = {
      impl: spec.impl,
      round: spec.round,
      latencyMs: spec.latencyMs,
      concurrency: spec.concurrency,
      processes: spec.processes,
      events: measured,
      prefilled: total,
      seconds: round(windowMs / 1000, 3),
      eventsPerSec: round((measured * 1000) / windowMs, 1),
      ...(Number.isFinite(ideal) ? { idealEventsPerSec: ideal } : {}),
      peakRssBytes: rss,
      cpuPercent: {
        workers: percent(cpu0.workers, cpu1.workers),
        simulator: percent(cpu0.simulator, cpu1.simulator),
        redis: percent(cpu0.redis, cpu1.redis),
      },
      workerCpuUsPerEvent: measured > 0 ? round((workerCpuMs * 1000) / measured, 1) : 0,
      listingRequests: listings,
      loadavg1: ctx.sample(`${spec.impl} ${spec.latencyMs}ms c${spec.concurrency} x${spec.processes}`),
    }
    if (spec.impl === 'ucd' && listings > 0) {
      ctx.notes.push(
        `${spec.impl} ${spec.latencyMs} ms c${spec.concurrency}: ${listings} event listings on a fault-free run (expected 0)`,
      )
    }
    const counts = await filled.queue.getJobCounts('failed', 'delayed')
    if ((counts.failed ?? 0) + (counts.delayed ?? 0) > 0) {
      ctx.notes.push(
        `${spec.impl} ${spec.latencyMs} ms c${spec.concurrency}: jobs failed or delayed: ${JSON.stringify(counts)}`,
      )
    }
    ctx.log(
      `  ${spec.impl} ${spec.latencyMs} ms, concurrency ${spec.concurrency} x ${spec.processes}: ` +
        `${Math.round(run.eventsPerSec)} events/s (${measured} in ${run.seconds} s), RSS ${Math.round(rss / 1048576)} MB, ` +
        `CPU worker ${run.cpuPercent.workers}% sim ${run.cpuPercent.simulator}% redis ${run.cpuPercent.redis}%, ` +
        `event listings ${listings}`,
    )
    return run
  } finally {
    await Promise.all(children.map(c => c.stop(30_000)))
    await filled.close()
  }
}

function sized(ctx: BenchContext, expectedPerSec: number): number {
  return Math.min(60_000, Math.max(100, Math.round(expectedPerSec * ctx.settings.drainSeconds)))
}

export async function runWorkerSection(
  ctx: BenchContext,
  parts: { perConcurrency: boolean; scaleOut: boolean },
): Promise<WorkerSection> {
  const runs: DrainRun[] = []
  const scaleOut: DrainRun[] = []
  const attempt = async (spec: DrainSpec): Promise<DrainRun | undefined> => {
    try {
      return await drain(ctx, spec)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      ctx.log(`  FAILED: ${message}`)
      ctx.notes.push(
        `${spec.impl} ${spec.latencyMs} ms c${spec.concurrency} x${spec.processes} failed: ${message.split('\n')[0]}`,
      )
      return undefined
    }
  }
  const rounds = ctx.settings.workerRounds
  if (parts.perConcurrency) {
    for (const latencyMs of ctx.settings.latencies) {
      ctx.log(`worker: simulator latency ${latencyMs} ms`)
      for (const concurrency of ctx.settings.concurrencies) {
        for (let round = 1; round <= rounds; round += 1) {
          for (const impl of ['ucd', 'bare'] as const) {
            const atZero = runs.find(
              r => r.impl === impl && r.latencyMs === 0 && r.concurrency === concurrency,
            )
            const ideal = latencyMs > 0 ? (concurrency * 1000) / latencyMs : Number.POSITIVE_INFINITY
            const expected = Math.min(ideal, atZero?.eventsPerSec ?? GUESS_AT_ZERO_LATENCY(concurrency))
            const spec = { impl, round, latencyMs, concurrency, processes: 1, events: sized(ctx, expected) }
            const run = await attempt(spec)
            if (run) runs.push(run)
          }
        }
      }
    }
  }
  if (parts.scaleOut) {
    const { scaleLatencyMs: latencyMs, scaleConcurrency: concurrency } = ctx.settings
    ctx.log(`worker scale-out: ${latencyMs} ms, concurrency ${concurrency} per process`)
    for (let round = 1; round <= rounds; round += 1) {
      for (const processes of ctx.settings.scaleProcesses) {
        const ideal = (processes * concurrency * 1000) / latencyMs
        const known = runs.find(r => r.impl === 'ucd' && r.latencyMs === 0 && r.concurrency === concurrency)
        const expected = Math.min(
          ideal,
          (known?.eventsPerSec ?? GUESS_AT_ZERO_LATENCY(concurrency)) * processes,
        )
        const spec = {
          impl: 'ucd' as const,
          round,
          latencyMs,
          concurrency,
          processes,
          events: sized(ctx, expected),
        }
        const run = await attempt(spec)
        if (run) scaleOut.push(run)
      }
    }
  }
  return { logLevel: 'info', rounds, users: ctx.settings.users, eventBytes: EVENT_BYTES, runs, scaleOut }
}
