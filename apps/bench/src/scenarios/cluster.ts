import {
  createEventsQueues,
  createRedisConnection,
  eventJobId,
  waitUntilReady,
  type EventJobData,
  type RedisClient,
  type RedisTarget,
} from '@ucd/queue'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { sleep, startRedisCluster, type RedisClusterHandle } from '@ucd/testing'
import { SIM_APP, type BenchContext } from '../context'
import { spawnHttp } from '../procs'
import type { ClusterRun, ClusterSection } from '../results'
import { round } from '../stats'
import { messageIdOf, TENANT_ID, trackEvent } from '../workload'

// Section `cluster` (issue 19): the same workload on one Redis node with QUEUE_SHARDS=1 and on a local
// 3-master Redis Cluster (@ucd/testing's startRedisCluster, on this same machine) with QUEUE_SHARDS=6,
// alternating, in the same run. Per round and layout: (1) enqueue throughput: 10 parallel loops of
// addBulk(100) into the events queue of each event's shard (the sharded ingest's Redis work, without
// HTTP: main's ingest cannot target a cluster yet); (2) worker throughput: one worker process (default
// concurrency 50, split over the shards) drains what was enqueued, timed at the simulator from the
// moment every user's identity is cached (as the `worker` section).

const LAYOUTS = [
  { layout: '1 shard, 1 node', shards: 1 },
  { layout: '6 shards, 3 masters', shards: 6 },
] as const
const LOOPS = 10
const BULK = 100
const CONCURRENCY = 50

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function events(ctx: BenchContext, tag: string, count: number): SegmentEvent[] {
  const receivedAt = new Date()
  const timestamp = new Date(receivedAt.getTime() - 1000).toISOString()
  return Array.from({ length: count }, (_, seq) => {
    const normalized = normalizeEvent(
      trackEvent(seq % ctx.settings.users, messageIdOf(tag, seq), timestamp),
      {
        receivedAt,
      },
    )
    if (!normalized.ok) throw new Error('the benchmark event does not validate')
    return normalized.event
  })
}

async function enqueueAll(
  connection: RedisClient,
  prefix: string,
  shards: number,
  list: readonly SegmentEvent[],
): Promise<number> {
  const queues = createEventsQueues(connection, prefix, shards)
  const receivedAt = new Date().toISOString()
  const started = performance.now()
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < list.length) {
      const bulk = list.slice(next, next + BULK)
      next += BULK
      const byShard = new Map<number, SegmentEvent[]>()
      for (const event of bulk) {
        const { shard } = queues.forEvent(TENANT_ID, event)
        byShard.set(shard, [...(byShard.get(shard) ?? []), event])
      }
      await Promise.all(
        [...byShard].map(([shard, shardEvents]) =>
          queues.of(shard).queue.addBulk(
            shardEvents.map(event => {
              const data: EventJobData = { tenantId: TENANT_ID, event, receivedAt }
              return { name: event.type, data, opts: { jobId: eventJobId(TENANT_ID, event.messageId) } }
            }),
          ),
        ),
      )
    }
  }
  await Promise.all(Array.from({ length: LOOPS }, loop))
  const seconds = (performance.now() - started) / 1000
  await queues.close()
  return list.length / seconds
}

async function oneRun(
  ctx: BenchContext,
  target: { redis: RedisTarget; env: Record<string, string> },
  layout: (typeof LAYOUTS)[number],
  round_: number,
  count: number,
): Promise<ClusterRun> {
  const sim = await ctx.sim()
  await sim.admin.reset()
  const prefix = `${ctx.prefix()}${round_}`
  const connection = createRedisConnection(target.redis, 'producer', { commandTimeoutMs: 30_000 })
  await waitUntilReady(connection, 20_000)
  try {
    const list = events(ctx, prefix, count)
    const enqueuePerSec = await enqueueAll(connection, prefix, layout.shards, list)
    const worker = await spawnHttp(
      'the worker to be ready',
      metricsPort =>
        ctx.group.spawnNode('worker', ctx.paths.worker, {
          env: {
            ...ctx.workerEnv(prefix, sim, CONCURRENCY, metricsPort),
            ...target.env,
            QUEUE_SHARDS: String(layout.shards),
          },
          nodeArgs: ctx.nodeArgs('worker'),
        }),
      '/health/ready',
    )
    try {
      await worker.ready()
      const delivered = async () => (await sim.admin.summary()).apps[SIM_APP]?.totals.events ?? 0
      let t0: number | undefined
      let c0 = 0
      const deadline = performance.now() + 300_000
      for (;;) {
        const now = await delivered()
        if (t0 === undefined && now >= ctx.settings.users) {
          t0 = performance.now()
          c0 = now
        }
        if (now >= count) break
        if (performance.now() > deadline) throw new Error(`cluster drain timed out at ${now} of ${count}`)
        if (!worker.child.running())
          throw new Error(`the worker exited:\n${worker.child.output().slice(-3000)}`)
        await sleep(25)
      }
      const seconds = (performance.now() - (t0 ?? 0)) / 1000
      return {
        layout: layout.layout,
        shards: layout.shards,
        round: round_,
        events: count,
        enqueuePerSec: round(enqueuePerSec, 0),
        workerPerSec: round((count - c0) / seconds, 1),
      }
    } finally {
      await worker.child.stop()
    }
  } finally {
    await connection.quit().catch(() => connection.disconnect())
  }
}

export async function runClusterSection(ctx: BenchContext): Promise<ClusterSection> {
  const count = ctx.settings.mode === 'quick' ? 3000 : 10_000
  const rounds = ctx.settings.mode === 'quick' ? 1 : 3
  ctx.log(`cluster: starting a local 3-master Redis Cluster`)
  const cluster: RedisClusterHandle = await startRedisCluster({ masters: 3 })
  const runs: ClusterRun[] = []
  try {
    const targets = {
      1: { redis: { kind: 'single', url: ctx.redisUrl } as RedisTarget, env: {} },
      6: { redis: cluster.target as RedisTarget, env: { REDIS_CLUSTER_NODES: cluster.seeds } },
    }
    for (let r = 0; r < rounds; r += 1) {
      for (const layout of LAYOUTS) {
        ctx.log(`cluster: round ${r + 1}/${rounds}, ${layout.layout}, ${count} events`)
        await ctx.flush()
        runs.push(await oneRun(ctx, targets[layout.shards], layout, r, count))
      }
    }
    const dbSizes = await cluster.dbSizes()
    const summary = LAYOUTS.map(layout => {
      const mine = runs.filter(run => run.shards === layout.shards)
      return {
        layout: layout.layout,
        shards: layout.shards,
        enqueuePerSec: round(median(mine.map(run => run.enqueuePerSec)), 0),
        workerPerSec: round(median(mine.map(run => run.workerPerSec)), 1),
      }
    })
    return { runs, summary, dbSizes, concurrency: CONCURRENCY, loops: LOOPS, bulk: BULK }
  } finally {
    await cluster.stop()
  }
}
