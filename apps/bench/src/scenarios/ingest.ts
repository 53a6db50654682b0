import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { WRITE_KEY, type BenchContext } from '../context'
import { runLoad } from '../load'
import { runOpenLoadInProcess } from '../open-load-process'
import { cpuTimeMs, peakRssBytes, startHttp, type Child } from '../procs'
import type { AddBulkRun, CpuPerEvent, HttpRun, IngestComparison, IngestSection } from '../results'
import { medianBy, round } from '../stats'
import { BodyFactory, EVENT_BYTES, EVENTS_PER_BATCH } from '../workload'

// Section 1: the ingest under autocannon, next to a bare Fastify route (HTTP ceiling) and a bare
// BullMQ addBulk loop (Redis ceiling), each as its own process, on the same private Redis. The
// ingest and the addBulk loop alternate, round after round, so that load from elsewhere on the
// machine hits both alike; each is shown by its median round.

const AddBulkResultSchema = z.object({
  calls: z.number(),
  eventsPerSec: z.number(),
  latencyP50Ms: z.number(),
  latencyP99Ms: z.number(),
  cpuUsPerEvent: z.number(),
  redisCpuUsPerEvent: z.number(),
})

export type { Route }

const ROUTES = [
  { route: '/v1/batch', eventsPerRequest: EVENTS_PER_BATCH, tag: 'b' },
  { route: '/v1/track', eventsPerRequest: 1, tag: 't' },
] as const
type Route = { readonly route: string; readonly eventsPerRequest: number; readonly tag: string }

const headers = {
  authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
  'content-type': 'application/json',
}

/** CPU time of `pid` and of Redis between start() and stop(), per event. */
function cpuMeter(ctx: BenchContext, pid: number) {
  const redis = (): number => (ctx.redisPid === undefined ? 0 : (cpuTimeMs(ctx.redisPid) ?? 0))
  const p0 = cpuTimeMs(pid) ?? 0
  const r0 = redis()
  return {
    perEvent: (events: number): CpuPerEvent => ({
      process: events > 0 ? round((((cpuTimeMs(pid) ?? p0) - p0) * 1000) / events, 1) : 0,
      redis: events > 0 ? round(((redis() - r0) * 1000) / events, 1) : 0,
    }),
  }
}

/** The median round by events/s. */
function median<T extends { eventsPerSec: number }>(runs: readonly T[]): T {
  const pick = medianBy(runs, r => r.eventsPerSec)
  if (pick === undefined) throw new Error('no runs')
  return pick
}

export async function drive(
  ctx: BenchContext,
  target: HttpRun['target'],
  server: { origin: string; child: Child },
  route: Route,
  bodies: BodyFactory,
  durationS: number,
  /**
   * An open loop (open-load.ts, in a process of its own: open-load-process.ts): `rate` requests/s due in
   * total, after `warmupS` seconds at that rate on the same connections (not measured); `bodies` must not
   * have been used. Unset: each connection sends as soon as answered.
   */
  open?: { rate: number; warmupS: number },
): Promise<HttpRun> {
  const { connections } = ctx.settings
  const overallRate = open?.rate
  const body = route.eventsPerRequest === 1 ? () => bodies.single() : () => bodies.batch()
  let meter = cpuMeter(ctx, server.child.pid)
  const load = { url: server.origin, path: route.route, connections, headers, body, durationS }
  const result = await (open === undefined
    ? runLoad(load)
    : runOpenLoadInProcess(
        {
          url: server.origin,
          path: route.route,
          connections,
          durationS,
          headers,
          overallRate: open.rate,
          warmupS: open.warmupS,
          bodies: bodies.recipe,
          batch: route.eventsPerRequest !== 1,
        },
        () => {
          meter = cpuMeter(ctx, server.child.pid)
        },
      ))
  const events = result.requests * route.eventsPerRequest
  const run: HttpRun = {
    target,
    route: route.route,
    connections,
    durationS: round(result.durationS, 2),
    requests: result.requests,
    non2xx: result.non2xx,
    errors: result.errors,
    eventsPerRequest: route.eventsPerRequest,
    requestsPerSec: round(result.requests / result.durationS, 1),
    eventsPerSec: round(events / result.durationS, 1),
    latencyP50Ms: result.latencyP50Ms,
    latencyP99Ms: result.latencyP99Ms,
    cpuUsPerEvent: meter.perEvent(events),
    loadavg1: ctx.sample(`${target} ${route.route}`),
    ...(overallRate === undefined ? {} : { offeredRequestsPerSec: overallRate }),
  }
  ctx.log(
    `  ${target} ${route.route}${overallRate === undefined ? '' : ` offered ${overallRate} req/s`}: ` +
      `${Math.round(run.eventsPerSec)} events/s, p50 ${run.latencyP50Ms} ms, ` +
      `p99 ${run.latencyP99Ms} ms, CPU ${run.cpuUsPerEvent.process} µs/event (Redis ${run.cpuUsPerEvent.redis})` +
      (run.non2xx + run.errors > 0 ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''),
  )
  if (run.non2xx + run.errors > 0) {
    ctx.notes.push(
      `${target} ${route.route}: ${run.non2xx} non-2xx answers and ${run.errors} errors during the run`,
    )
  }
  return run
}

export async function addBulkLoop(
  ctx: BenchContext,
  route: Route,
  tag: string,
): Promise<{ run: AddBulkRun; rss: number }> {
  const { connections, ingestSeconds, users } = ctx.settings
  const eventsPerCall = route.eventsPerRequest
  const resultFile = join(ctx.logDir, `addbulk-${tag}.json`)
  const child = ctx.group.spawnNode('bare-addbulk', ctx.paths.bareProducer, {
    nodeArgs: ctx.nodeArgs('bare-addbulk'),
    args: [
      JSON.stringify({
        redisUrl: ctx.redisUrl,
        prefix: ctx.prefix(),
        loops: connections,
        eventsPerCall,
        users,
        tag,
        warmupMs: 500,
        durationMs: ingestSeconds * 1000,
        resultFile,
        redisPid: ctx.redisPid,
      }),
    ],
  })
  let rss = 0
  const watch = setInterval(() => (rss = Math.max(rss, peakRssBytes(child.pid) ?? 0)), 100)
  const code = await child.exited
  clearInterval(watch)
  if (code !== 0) {
    throw new Error(`the bare addBulk loop failed (exit ${String(code)}):\n${child.output().slice(-3000)}`)
  }
  const result = AddBulkResultSchema.parse(JSON.parse(readFileSync(resultFile, 'utf8')))
  const run: AddBulkRun = {
    loops: connections,
    eventsPerCall,
    durationS: ingestSeconds,
    calls: result.calls,
    eventsPerSec: round(result.eventsPerSec, 1),
    latencyP50Ms: round(result.latencyP50Ms, 2),
    latencyP99Ms: round(result.latencyP99Ms, 2),
    cpuUsPerEvent: { process: round(result.cpuUsPerEvent, 1), redis: round(result.redisCpuUsPerEvent, 1) },
    loadavg1: ctx.sample(`bare addBulk x${eventsPerCall}`),
  }
  ctx.log(
    `  bare addBulk x${eventsPerCall}: ${Math.round(run.eventsPerSec)} events/s, p50 ${run.latencyP50Ms} ms, ` +
      `CPU ${run.cpuUsPerEvent.process} µs/event (Redis ${run.cpuUsPerEvent.redis})`,
  )
  return { run, rss }
}

export async function runIngestSection(ctx: BenchContext): Promise<IngestSection> {
  const { warmupSeconds, ingestSeconds, ingestRounds, users } = ctx.settings
  const timestamp = new Date().toISOString()

  ctx.log('ingest: bare Fastify (HTTP ceiling)')
  const fastify = await startHttp(
    'bare fastify to be ready',
    port =>
      ctx.group.spawnNode('bare-fastify', ctx.paths.bareFastify, {
        args: [JSON.stringify({ port })],
        nodeArgs: ctx.nodeArgs('bare-fastify'),
      }),
    '/health',
  )
  const bareFastify = new Map<Route, HttpRun>()
  for (const route of ROUTES) {
    const bodies = new BodyFactory(`f${route.tag}`, users, timestamp)
    await drive(ctx, 'bare-fastify', fastify, route, bodies, warmupSeconds)
    bareFastify.set(route, await drive(ctx, 'bare-fastify', fastify, route, bodies, ingestSeconds))
  }
  const fastifyRss = peakRssBytes(fastify.child.pid) ?? 0
  await fastify.child.stop()

  await ctx.flush()
  const prefix = ctx.prefix()
  const ingest = await startHttp(
    'the ingest to be ready',
    port =>
      ctx.group.spawnNode('ingest', ctx.paths.ingest, {
        env: ctx.ingestEnv(prefix, port),
        nodeArgs: ctx.nodeArgs('ingest'),
      }),
    '/health/ready',
  )
  const comparisons = new Map<Route, IngestComparison>()
  let bulkRss = 0
  for (const route of ROUTES) {
    ctx.log(`ingest ${route.route}: apps/ingest and bare BullMQ addBulk loops (Redis ceiling), alternating`)
    const bodies = new BodyFactory(`i${route.tag}`, users, timestamp)
    await drive(ctx, 'ingest', ingest, route, bodies, warmupSeconds)
    const ingestRuns: HttpRun[] = []
    const bulkRuns: AddBulkRun[] = []
    for (let i = 0; i < ingestRounds; i += 1) {
      await ctx.flush()
      ingestRuns.push(await drive(ctx, 'ingest', ingest, route, bodies, ingestSeconds))
      await ctx.flush()
      const bulk = await addBulkLoop(ctx, route, `p${route.tag}${i}`)
      bulkRuns.push(bulk.run)
      bulkRss = Math.max(bulkRss, bulk.rss)
    }
    const fastifyRun = bareFastify.get(route)
    if (fastifyRun === undefined) throw new Error(`no bare Fastify run for ${route.route}`)
    comparisons.set(route, {
      rounds: ingestRounds,
      ingest: median(ingestRuns),
      bareFastify: fastifyRun,
      bareAddBulk: median(bulkRuns),
      ingestRounds: ingestRuns.map(r => r.eventsPerSec),
      bareAddBulkRounds: bulkRuns.map(r => r.eventsPerSec),
    })
  }
  const ingestRss = peakRssBytes(ingest.child.pid) ?? 0
  await ingest.child.stop(20_000)
  await ctx.flush()

  const batch = comparisons.get(ROUTES[0])
  const track = comparisons.get(ROUTES[1])
  if (!batch || !track) throw new Error('missing ingest runs')
  const sample = new BodyFactory('sz', 1, timestamp)
  return {
    logLevel: 'info',
    connections: ctx.settings.connections,
    eventBytes: EVENT_BYTES,
    batchBodyBytes: Buffer.byteLength(sample.batch()),
    batch,
    track,
    peakRssBytes: { ingest: ingestRss, bareFastify: fastifyRss, bareAddBulk: bulkRss },
  }
}
