import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, waitUntilReady, type EventsQueue } from '@ucd/queue'
import {
  cleanupPrefix,
  freePort,
  sleep,
  spawnApp,
  startRedisServer,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type AppProcess,
} from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { API_KEY, enqueue, testEnv, track } from './helpers'

// Separate worker processes (the built dist/main.js), as they run in production: sharing work,
// killed, restarted under them, rate limited together, stopped with SIGTERM.

const main = join(__dirname, '../../dist/main.js')
const filePrefix = uniquePrefix(__filename)
const prefixes: string[] = []
let sim: RunningSimulator
const running: AppProcess[] = []
const closers: Array<() => Promise<unknown>> = []
let testNo = 0

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] })
})
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.stop('SIGKILL')
  for (const close of closers.splice(0).reverse()) await close()
  await sim.admin.reset()
})
afterAll(async () => {
  await sim.close()
  for (const prefix of prefixes) await cleanupPrefix(testRedisUrl(), prefix)
})

interface Setup {
  prefix: string
  queue: EventsQueue
  redisUrl: string
}

async function setup(redisUrl = testRedisUrl()): Promise<Setup> {
  const prefix = `${filePrefix}-${++testNo}`
  if (redisUrl === testRedisUrl()) prefixes.push(prefix)
  const connection: Redis = createRedisConnection(redisUrl, 'worker')
  await waitUntilReady(connection)
  const queue = createEventsQueue(connection, prefix)
  // Redis is stopped on purpose in one test: the reconnect errors are expected.
  queue.on('error', () => undefined)
  connection.on('error', () => undefined)
  closers.push(
    () => connection.quit().catch(() => connection.disconnect()),
    () => queue.close(),
  )
  return { prefix, queue, redisUrl }
}

async function startWorkerProcess(s: Setup, env: Record<string, string> = {}) {
  const port = await freePort()
  const proc = await spawnApp({
    args: [main],
    env: testEnv(s.redisUrl, s.prefix, sim.baseUrl, {
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
      ...env,
    }),
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
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

const allDelivered = (count: number) => async () => {
  const ns = new Set(await deliveredNumbers())
  return ns.size === count
}

describe('worker processes', () => {
  it('three processes share 1,000 events: each delivered once, and each process did part of the work', async () => {
    const s = await setup()
    const workers = await Promise.all(
      [1, 2, 3].map(() => startWorkerProcess(s, { WORKER_CONCURRENCY: '20' })),
    )
    await sim.admin.setFaults({ latencyMs: 5 })
    await enqueue(
      s.queue,
      Array.from({ length: 1000 }, (_, n) => track(`u-${n % 50}`, n)),
    )
    await waitFor(allDelivered(1000), {
      timeoutMs: 90_000,
      intervalMs: 500,
      description: '1,000 events delivered',
    })
    const ns = await deliveredNumbers()
    expect(ns).toHaveLength(1000)
    expect(new Set(ns).size).toBe(1000)
    const shares = await Promise.all(workers.map(w => delivered(w.metricsUrl)))
    expect(shares.reduce((a, b) => a + b, 0)).toBe(1000)
    for (const share of shares) expect(share).toBeGreaterThan(0)
  }, 180_000)

  it('a worker killed with SIGKILL mid-run loses nothing: its jobs are taken over', async () => {
    const s = await setup()
    await sim.admin.setFaults({ latencyMs: 40 })
    const env = {
      WORKER_CONCURRENCY: '20',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    }
    const victim = await startWorkerProcess(s, env)
    await startWorkerProcess(s, env)
    await enqueue(
      s.queue,
      Array.from({ length: 300 }, (_, n) => track(`u-${n % 30}`, n)),
    )
    await waitFor(async () => (await delivered(victim.metricsUrl)) >= 20, {
      description: 'the victim at work',
    })
    const result = await victim.proc.kill()
    expect(result.signal).toBe('SIGKILL')
    await waitFor(allDelivered(300), { timeoutMs: 60_000, intervalMs: 500, description: 'all 300 delivered' })
  })

  it('Redis restarted mid-run: the workers reconnect and finish without a restart', async () => {
    const redis = await startRedisServer({ persistent: true })
    closers.push(() => redis.stop())
    const s = await setup(redis.url)
    await sim.admin.setFaults({ latencyMs: 30 })
    const worker = await startWorkerProcess(s, { WORKER_CONCURRENCY: '10' })
    await enqueue(
      s.queue,
      Array.from({ length: 200 }, (_, n) => track(`u-${n % 20}`, n)),
    )
    await waitFor(async () => (await deliveredNumbers()).length >= 30, { description: 'delivery under way' })
    await redis.kill()
    const readyUrl = worker.metricsUrl.replace('/metrics', '/health/ready')
    await waitFor(async () => (await fetch(readyUrl)).status === 503, {
      description: 'not ready while Redis is down (it cannot make progress)',
    })
    expect((await fetch(worker.metricsUrl.replace('/metrics', '/health/live'))).status).toBe(200)
    await redis.start()
    await waitFor(allDelivered(200), { timeoutMs: 60_000, intervalMs: 500, description: 'all 200 delivered' })
    expect(worker.proc.child.exitCode).toBeNull()
    await waitFor(
      async () => (await fetch(worker.metricsUrl.replace('/metrics', '/health/ready'))).status === 200,
    )
  })

  it('USERCOM_MAX_RPS=20 across two processes holds User.com at about 20 requests/s', async () => {
    const s = await setup()
    const env = { USERCOM_MAX_RPS: '20', WORKER_CONCURRENCY: '20' }
    await Promise.all([startWorkerProcess(s, env), startWorkerProcess(s, env)])
    // One user: after the first upsert, every event is one POST /events/.
    await enqueue(
      s.queue,
      Array.from({ length: 400 }, (_, n) => track('u-rps', n)),
    )
    await waitFor(async () => (await deliveredNumbers()).length >= 10, { description: 'delivery under way' })
    const total = async () => {
      const requests = (await sim.admin.state('acme')).apps.acme?.requests ?? {}
      return Object.values(requests).reduce(
        (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0),
        0,
      )
    }
    const before = await total()
    const started = Date.now()
    await sleep(4000)
    const rate = ((await total()) - before) / ((Date.now() - started) / 1000)
    expect(rate).toBeGreaterThan(14)
    expect(rate).toBeLessThan(26)
  })

  it('SIGTERM under load: exits 0 within the drain time, and nothing is lost', async () => {
    const s = await setup()
    await sim.admin.setFaults({ latencyMs: 50 })
    const first = await startWorkerProcess(s, { WORKER_CONCURRENCY: '50', WORKER_DRAIN_TIMEOUT_MS: '5000' })
    await enqueue(
      s.queue,
      Array.from({ length: 400 }, (_, n) => track(`u-${n % 40}`, n)),
    )
    await waitFor(async () => (await delivered(first.metricsUrl)) >= 50, {
      description: 'delivery under way',
    })
    const result = await first.proc.stop('SIGTERM', 15_000)
    expect(result.code).toBe(0)
    expect(result.elapsedMs).toBeLessThan(5000 + 3000)
    expect(result.stdout).toContain('stopping: no new jobs')
    const left = new Set(await deliveredNumbers()).size
    expect(left).toBeLessThan(400)
    await startWorkerProcess(s, { WORKER_CONCURRENCY: '50' })
    await waitFor(allDelivered(400), { timeoutMs: 60_000, intervalMs: 500, description: 'all 400 delivered' })
  })

  it('exits 1 and names the problem when the configuration is invalid', async () => {
    const s = await setup()
    await expect(
      spawnApp({
        args: [main],
        env: testEnv(s.redisUrl, s.prefix, sim.baseUrl, { WORKER_CONCURRENCY: 'lots', USERCOM_API_KEY: '' }),
        readyPattern: /never/,
      }),
    ).rejects.toThrow(/exited \(code 1.*WORKER_CONCURRENCY.*USERCOM_API_KEY/s)
  })
})
