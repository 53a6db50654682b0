import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  createEventsQueue,
  createRedisConnection,
  eventJobId,
  waitUntilReady,
  type EventJobData,
} from '@ucd/queue'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { sleep } from '@ucd/testing'
import type { BenchContext } from '../context'
import { spawnHttp } from '../procs'
import type { IsolationSection } from '../results'
import { round } from '../stats'

// `--only isolation` (issue 18): tenant isolation, measured with one worker process (concurrency 50)
// and the simulator as its own process.
// - 429: tenant B's 500 tracks alone, then queued behind tenant A's 500 while A's User.com answers 429
//   to everything (the simulator's per-app failure): B's events/s with A failing ÷ B's alone (target ≥ 0.8).
// - hostile: 100 tracks alone, then behind 15 identifies with 30,000-character capital trait names (the
//   tenant's budget of new attributes is 5): the time to deliver the 100 with ÷ without.
// Each run: flush Redis, reset the simulator, pre-fill a paused queue, start the worker, resume, and
// poll the simulator until B's tracks are in; the time runs from the resume.

const KEYS = { a: 'bench-isolation-key-a', b: 'bench-isolation-key-b' } as const
const APPS = { a: 'iso-a', b: 'iso-b' } as const
const BUDGET = 5
const POLL_MS = 50

interface RunSpec {
  label: string
  /** Tracks of tenant A queued first. */
  aTracks: number
  /** A's User.com answers 429 to everything during the run. */
  aRateLimited: boolean
  /** Identifies of tenant B with a 30,000-character capital trait name, queued before B's tracks. */
  hostile: number
  bTracks: number
}

function normalized(raw: Record<string, unknown>): SegmentEvent {
  const result = normalizeEvent(raw, { receivedAt: new Date() })
  if (!result.ok) throw new Error(`the benchmark's event does not validate: ${JSON.stringify(result.errors)}`)
  return result.event
}

function events(tag: string, spec: RunSpec): { tenant: 'a' | 'b'; event: SegmentEvent }[] {
  const timestamp = new Date().toISOString()
  const track = (tenant: 'a' | 'b', n: number) => ({
    tenant,
    event: normalized({
      type: 'track',
      userId: `${tenant}-user-${n % 50}`,
      event: 'Order Completed',
      messageId: `${tag}-${tenant}-t-${n}`,
      timestamp,
      properties: { n, revenue: 12.5 },
    }),
  })
  const hostile = (n: number) => ({
    tenant: 'b' as const,
    event: normalized({
      type: 'identify',
      userId: `b-hostile-${n}`,
      messageId: `${tag}-b-h-${n}`,
      timestamp,
      traits: { [`${String.fromCharCode(65 + (n % 26))}${'A'.repeat(30_000)}`]: 'x' },
    }),
  })
  return [
    ...Array.from({ length: spec.aTracks }, (_, n) => track('a', n)),
    ...Array.from({ length: spec.hostile }, (_, n) => hostile(n)),
    ...Array.from({ length: spec.bTracks }, (_, n) => track('b', n)),
  ]
}

/** One run: seconds from the resume until B's tracks are all delivered, and the attributes B created. */
async function runOnce(ctx: BenchContext, spec: RunSpec): Promise<{ seconds: number; attributes: number }> {
  const sim = await ctx.sim()
  await ctx.flush()
  await sim.admin.reset()
  await sim.admin.addKey(KEYS.a, APPS.a)
  await sim.admin.addKey(KEYS.b, APPS.b)
  if (spec.aRateLimited) await sim.admin.failApp(APPS.a, { durationMs: 600_000 })
  const prefix = ctx.prefix()
  const tenantsFile = join(ctx.logDir, `tenants-${prefix}.json`)
  writeFileSync(
    tenantsFile,
    JSON.stringify(
      (['a', 'b'] as const).map(id => ({
        id,
        usercom: { apiKey: KEYS[id], baseUrl: sim.baseUrl },
        newAttributesPerHour: BUDGET,
      })),
    ),
  )
  const connection = createRedisConnection(ctx.redisUrl, 'producer', { commandTimeoutMs: 30_000 })
  await waitUntilReady(connection)
  const queue = createEventsQueue(connection, prefix)
  try {
    await queue.pause()
    const receivedAt = new Date().toISOString()
    await queue.addBulk(
      events(prefix, spec).map(({ tenant, event }) => {
        const data: EventJobData = { tenantId: tenant, event, receivedAt }
        return { name: event.type, data, opts: { jobId: eventJobId(tenant, event.messageId) } }
      }),
    )
    const env: Record<string, string | undefined> = {
      ...ctx.workerEnv(prefix, sim, 50, 0),
      TENANTS_FILE: tenantsFile,
    }
    delete env.SEGMENT_WRITE_KEY
    delete env.USERCOM_API_KEY
    delete env.USERCOM_BASE_URL
    const worker = await spawnHttp(
      'the worker to be ready',
      metricsPort =>
        ctx.group.spawnNode('worker', ctx.paths.worker, {
          env: { ...env, METRICS_PORT: String(metricsPort) },
          nodeArgs: ctx.nodeArgs('worker'),
        }),
      '/health/ready',
    )
    try {
      await worker.ready()
      const started = performance.now()
      await queue.resume()
      for (;;) {
        const totals = (await sim.admin.summary()).apps[APPS.b]?.totals
        if ((totals?.events ?? 0) >= spec.bTracks) {
          const seconds = (performance.now() - started) / 1000
          return { seconds, attributes: totals?.attributes ?? 0 }
        }
        if (performance.now() - started > 600_000) throw new Error(`${spec.label}: timed out`)
        if (!worker.child.running())
          throw new Error(`the worker exited:\n${worker.child.output().slice(-3000)}`)
        await sleep(POLL_MS)
      }
    } finally {
      await worker.child.stop()
    }
  } finally {
    await queue.close()
    await connection.quit()
  }
}

export async function runIsolationSection(ctx: BenchContext): Promise<IsolationSection> {
  const run = async (spec: RunSpec) => {
    const result = await runOnce(ctx, spec)
    ctx.log(`  isolation ${spec.label}: ${round(result.seconds, 2)} s`)
    return result
  }
  const alone = await run({
    label: "B's 500 tracks alone",
    aTracks: 0,
    aRateLimited: false,
    hostile: 0,
    bTracks: 500,
  })
  const with429 = await run({
    label: "B's 500 tracks behind A's 500, A answered 429",
    aTracks: 500,
    aRateLimited: true,
    hostile: 0,
    bTracks: 500,
  })
  const plain = await run({
    label: '100 tracks alone',
    aTracks: 0,
    aRateLimited: false,
    hostile: 0,
    bTracks: 100,
  })
  const hostile = await run({
    label: '100 tracks behind 15 hostile identifies',
    aTracks: 0,
    aRateLimited: false,
    hostile: 15,
    bTracks: 100,
  })
  const section: IsolationSection = {
    bAloneEventsPerS: round(500 / alone.seconds, 1),
    bWithA429EventsPerS: round(500 / with429.seconds, 1),
    ratio429: round(alone.seconds / with429.seconds, 3),
    tracksAloneS: round(plain.seconds, 2),
    tracksAfterHostileS: round(hostile.seconds, 2),
    hostileRatio: round(plain.seconds / hostile.seconds, 3),
    hostileAttributesCreated: hostile.attributes,
    attributeBudget: BUDGET,
  }
  ctx.log(
    `isolation: B alone ${section.bAloneEventsPerS} ev/s, B with A answered 429 ${section.bWithA429EventsPerS} ev/s, ` +
      `ratio ${section.ratio429} (target ≥ 0.8); 100 tracks ${section.tracksAloneS} s alone, ` +
      `${section.tracksAfterHostileS} s behind 15 hostile identifies (ratio ${section.hostileRatio}); ` +
      `attributes the hostile identifies created: ${section.hostileAttributesCreated} (budget ${BUDGET}, the rest dropped as attribute_budget)`,
  )
  return section
}
