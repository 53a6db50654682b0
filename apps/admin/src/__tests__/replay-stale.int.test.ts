/**
 * Issue 14: replays are safe. A user's newest identify has landed; an older one dead-lettered (403)
 * and replayed with `dlq replay` (the admin code path) changes nothing in User.com: its values are
 * dropped as `stale`, counted and logged by the worker (a separate process, dist/main.js).
 */
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  eventJobId,
  EventJobDataSchema,
  type DeadLetterQueue,
  type EventsQueue,
} from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { testEvent } from '@ucd/segment/testing'
import {
  cleanupPrefix,
  freePort,
  spawnApp,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type AppProcess,
} from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { connect, openDlq, runCli } from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const API_KEY = 'uc_replay_stale_key_0123456789abcdef0123456789abcdef0123456789ab'
const workerMain = join(dirname(require.resolve('@ucd/worker/package.json')), 'dist', 'main.js')
const RECEIVED_AT = new Date('2026-11-28T12:00:00.000Z')

let sim: RunningSimulator
let redis: Redis
let dlq: DeadLetterQueue
let events: EventsQueue
let worker: AppProcess | undefined
let metricsUrl = ''

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] })
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
  events = createEventsQueue(redis, prefix)
  const port = await freePort()
  metricsUrl = `http://127.0.0.1:${port}/metrics`
  worker = await spawnApp({
    args: [workerMain],
    env: {
      REDIS_URL: url,
      QUEUE_PREFIX: prefix,
      USERCOM_API_KEY: API_KEY,
      USERCOM_BASE_URL: sim.baseUrl,
      TENANTS_FILE: undefined,
      WORKER_CONCURRENCY: '5',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '200',
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(port),
      LOG_LEVEL: 'info',
    },
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
    readyTimeoutMs: 120_000,
  })
})

afterAll(async () => {
  await worker?.stop('SIGKILL')
  await Promise.all([dlq.close(), events.close()])
  await sim.close()
  await cleanupPrefix(url, prefix)
  await redis.quit()
})

const identify = (at: string, k: number): SegmentEvent =>
  testEvent(
    'identify',
    {
      userId: 'replay-u1',
      timestamp: at,
      traits: { plan: `plan-${k}`, email: `v${k}@example.com`, visits: k },
    },
    { receivedAt: RECEIVED_AT },
  )

async function send(event: SegmentEvent): Promise<void> {
  const data = EventJobDataSchema.parse({ tenantId: 'default', event, receivedAt: RECEIVED_AT.toISOString() })
  await events.add(event.type, data, { jobId: eventJobId('default', event.messageId) })
}

async function userValues() {
  const user = (await sim.admin.state('acme')).apps.acme?.users.find(u => u.custom_id === 'replay-u1')
  return { email: user?.email, plan: user?.attributes.plan, visits: user?.attributes.visits }
}

async function staleDropped(): Promise<number> {
  const text = await (await fetch(metricsUrl)).text()
  const line = text.split('\n').find(l => l.startsWith('ucd_worker_stale_dropped_total{tenant="default"}'))
  return Number(line?.split(' ').pop() ?? 0)
}

describe('dlq replay of an old identify', () => {
  it('never overwrites newer values: they are reported stale', async () => {
    await send(identify('2026-11-28T10:05:00.000Z', 5))
    const newest = { email: 'v5@example.com', plan: 'plan-5', visits: '5' }
    await waitFor(async () => JSON.stringify(await userValues()) === JSON.stringify(newest), {
      timeoutMs: 60_000,
      description: 'the newest identify landed',
    })

    // An older identify dies on a revoked key (403: DLQ `forbidden` at once).
    await sim.admin.revoke(API_KEY)
    await send(identify('2026-11-28T10:00:00.000Z', 0))
    await waitFor(async () => (await dlq.getJobCounts('waiting')).waiting === 1, {
      timeoutMs: 60_000,
      description: 'the older identify dead-lettered',
    })
    await sim.admin.restore(API_KEY)

    const replay = await runCli(url, prefix, ['dlq', 'replay', '--all'])
    expect(replay.code).toBe(0)
    expect((await dlq.getJobCounts('waiting')).waiting).toBe(0)
    await waitFor(async () => (await staleDropped()) === 3, {
      timeoutMs: 60_000,
      description: 'the replayed identify delivered, its 3 values dropped as stale',
    })
    expect(await userValues()).toEqual(newest)
    // The worker's log line for the replayed event names each stale value.
    await waitFor(async () => worker?.stdout().includes('"reason":"stale"') ?? false, {
      timeoutMs: 10_000,
      description: 'the stale report in the log',
    })
    const report = worker
      ?.stdout()
      .split('\n')
      .find(line => line.includes('"reason":"stale"'))
    expect(report).toContain('"field":"user.plan"')
    expect(report).toContain('"field":"user.email"')
    expect(report).not.toContain(API_KEY)
  }, 300_000)
})
