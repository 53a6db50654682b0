import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueues,
  createRedisConnection,
  waitUntilReady,
  type EventsQueue,
  type RedisClient,
  type ShardedQueues,
} from '@ucd/queue'
import {
  cleanupPrefix,
  freePort,
  spawnApp,
  startRedisCluster,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type AppProcess,
  type RedisClusterHandle,
} from '@ucd/testing'
import { loadConfig } from '@ucd/config'
import { buildApp, createIngestMetrics, EventProducer } from '@ucd/ingest'
import { createLogger } from '@ucd/logger'
import type { SegmentEvent } from '@ucd/segment'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { API_KEY, testEnv, track } from './helpers'

// The pipeline (ingest over HTTP → sharded queues → 3 worker processes → User.com simulator) on one
// Redis and on a local 3-master Redis Cluster with QUEUE_SHARDS=6 (issue 19), the same tests for both.
// The ingest runs in process (real HTTP on loopback), routing each event to its shard.

const WRITE_KEY = 'wk_cluster_pipeline_0123456789abcdef'

const main = join(__dirname, '../../dist/main.js')
const filePrefix = uniquePrefix(__filename)
let sim: RunningSimulator
let cluster: RedisClusterHandle
const running: AppProcess[] = []
const closers: Array<() => Promise<unknown>> = []
const singlePrefixes: string[] = []
let testNo = 0

beforeAll(async () => {
  ;[sim, cluster] = await Promise.all([
    startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] }),
    startRedisCluster({ masters: 3 }),
  ])
}, 90_000)
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.stop('SIGKILL')
  for (const close of closers.splice(0).reverse()) await close()
  await sim.admin.reset()
})
afterAll(async () => {
  await sim?.close()
  await cluster?.stop()
  for (const prefix of singlePrefixes) await cleanupPrefix(testRedisUrl(), prefix)
})

interface Target {
  /** Env of the worker processes for this Redis. */
  env: Record<string, string>
  shards: number
  /** Events (of a tenth as many users) of the delivered-once test: 5,000 on the cluster (issue 19's figure). */
  events: number
  connect(): RedisClient
}

const targets: Array<[string, () => Target]> = [
  [
    'one Redis, QUEUE_SHARDS=1',
    () => ({
      env: { REDIS_URL: testRedisUrl(), QUEUE_SHARDS: '1' },
      shards: 1,
      events: 1000,
      connect: () => createRedisConnection(testRedisUrl(), 'worker'),
    }),
  ],
  [
    'a 3-master Redis Cluster, QUEUE_SHARDS=6',
    () => ({
      env: { REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_SHARDS: '6' },
      shards: 6,
      events: 5000,
      connect: () => createRedisConnection(cluster.target, 'worker'),
    }),
  ],
]

interface Setup {
  prefix: string
  queues: ShardedQueues<EventsQueue>
  env: Record<string, string>
  /** The ingest's origin, `http://127.0.0.1:<port>`. */
  ingest: string
}

async function setup(target: Target): Promise<Setup> {
  const prefix = `${filePrefix}-${++testNo}`
  if (target.shards === 1) singlePrefixes.push(prefix)
  const connection = target.connect()
  connection.on('error', () => undefined)
  await waitUntilReady(connection, 20_000)
  const queues = createEventsQueues(connection, prefix, target.shards)
  closers.push(
    () => connection.quit().catch(() => connection.disconnect()),
    () => queues.close(),
  )
  // The ingest, with the same Redis settings as the workers.
  const config = loadConfig(
    {
      ...testEnv(testRedisUrl(), prefix, sim.baseUrl, target.env),
      SEGMENT_WRITE_KEY: WRITE_KEY,
      INGEST_METRICS_PORT: '0',
    },
    { app: 'ingest' },
  )
  const logger = createLogger({ service: 'cluster-pipeline-ingest', level: 'silent' })
  const metrics = createIngestMetrics()
  const producer = EventProducer.fromConfig(config, logger, metrics)
  const app = await buildApp({ config, logger, producer, metrics })
  const port = await freePort()
  await app.listen({ host: '127.0.0.1', port })
  closers.push(
    () => producer.close(),
    () => app.close(),
  )
  const ingest = `http://127.0.0.1:${port}`
  // As a load balancer would: traffic only once the ingest's Redis (every shard's queue) is ready.
  await waitFor(async () => (await fetch(`${ingest}/health/ready`)).status === 200, {
    timeoutMs: 30_000,
    description: 'the ingest ready',
  })
  return { prefix, queues, env: target.env, ingest }
}

/** Posts the events to the ingest's `/v1/batch`, 500 a request, as a Segment client would. */
async function send(s: Setup, events: readonly SegmentEvent[]): Promise<void> {
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`
  for (let i = 0; i < events.length; i += 500) {
    const response = await fetch(`${s.ingest}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ batch: events.slice(i, i + 500) }),
    })
    // The reason travels with a failure: a 503's JSON body says what the ingest could not store.
    expect({ status: response.status, body: response.status === 200 ? '' : await response.text() }).toEqual({
      status: 200,
      body: '',
    })
  }
}

async function startWorkerProcess(s: Setup, env: Record<string, string> = {}) {
  const port = await freePort()
  const proc = await spawnApp({
    args: [main],
    env: testEnv(testRedisUrl(), s.prefix, sim.baseUrl, {
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
      ...s.env,
      ...env,
    }),
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
    readyTimeoutMs: 60_000,
  })
  running.push(proc)
  return { proc, metricsUrl: `http://127.0.0.1:${port}/metrics` }
}

async function delivered(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text()
  const match = /ucd_worker_deliveries_total\{type="track",outcome="delivered"\} (\d+)/.exec(text)
  return Number(match?.[1] ?? 0)
}

const deliveredNumbers = async (): Promise<number[]> =>
  ((await sim.admin.state('acme')).apps.acme?.events ?? []).map(e => Number((e.data as { n?: number }).n))

const waiting = async (s: Setup): Promise<number[]> =>
  Promise.all(s.queues.list.map(({ queue }) => queue.getWaitingCount()))

describe.each(targets)('the pipeline on %s', (name, targetOf) => {
  it('3 worker processes deliver every event (5,000 of 500 users on the cluster) once; duplicates are one job', async () => {
    const target = targetOf()
    const count = target.events
    const s = await setup(target)
    const events = Array.from({ length: count }, (_, n) => track(`user-${n % (count / 10)}`, n))
    await send(s, events)
    // The same messageIds again (a client retry): the ingest's dedupe, nothing added.
    await send(s, events.slice(0, 500))
    const perShard = await waiting(s)
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(count)
    // Every shard got a part of the events.
    for (const n of perShard) expect(n).toBeGreaterThan(0)

    // Locks long enough that a loaded machine's event-loop pauses never look like a dead worker
    // (that redelivers: at least once); here nothing dies, so each event must arrive exactly once.
    const env = {
      WORKER_CONCURRENCY: '24',
      WORKER_LOCK_DURATION_MS: '60000',
      WORKER_STALLED_INTERVAL_MS: '30000',
    }
    const workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(s, env)))
    await waitFor(async () => new Set(await deliveredNumbers()).size === count, {
      timeoutMs: 200_000,
      intervalMs: 1000,
      description: `${count} events delivered (${name})`,
    })
    const ns = await deliveredNumbers()
    expect(ns).toHaveLength(count)
    expect(new Set(ns).size).toBe(count)
    const shares = await Promise.all(workers.map(w => delivered(w.metricsUrl)))
    expect(shares.reduce((a, b) => a + b, 0)).toBe(count)
    for (const share of shares) expect(share).toBeGreaterThan(0)

    if (target.shards > 1) {
      const sizes = await cluster.dbSizes()
      // The note of issue 19 asks for these: the shards' keys sit on all three masters.
      console.log(`DBSIZE per master after 5,000 events on 6 shards: ${sizes.join(' / ')}`)
      for (const size of sizes) expect(size).toBeGreaterThan(0)
    }
  }, 300_000)

  it('a worker killed with SIGKILL mid-run loses nothing: its jobs on every shard are taken over', async () => {
    const s = await setup(targetOf())
    await sim.admin.setFaults({ latencyMs: 20 })
    const env = {
      WORKER_CONCURRENCY: '12',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    }
    const victim = await startWorkerProcess(s, env)
    await startWorkerProcess(s, env)
    await send(
      s,
      Array.from({ length: 600 }, (_, n) => track(`user-${n % 60}`, n)),
    )
    await waitFor(async () => (await delivered(victim.metricsUrl)) >= 30, {
      timeoutMs: 60_000,
      description: 'the victim at work',
    })
    const result = await victim.proc.kill()
    expect(result.signal).toBe('SIGKILL')
    await waitFor(async () => new Set(await deliveredNumbers()).size === 600, {
      timeoutMs: 90_000,
      intervalMs: 500,
      description: 'all 600 delivered',
    })
    expect((await waiting(s)).every(count => count === 0)).toBe(true)
  }, 180_000)
})
