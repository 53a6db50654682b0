import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, waitUntilReady, type EventsQueue } from '@ucd/queue'
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
import { API_KEY, enqueue, page, testEnv, track } from './helpers'

// Effectively once under chaos, with separate worker processes (the built dist/main.js): 3,000 tracks
// for 200 users, 3 workers, 3 of them SIGKILLed mid-run (each replaced), and at the simulator 5 % of
// writes applied then answered 504 (lost responses) and 10 % of requests answered 503. Nothing may be
// lost and no event occurrence may be counted twice. The figures are printed for the worker README.

const main = join(__dirname, '../../dist/main.js')
const prefix = uniquePrefix(__filename)
let sim: RunningSimulator
let connection: Redis
let queue: EventsQueue
const running: AppProcess[] = []

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] })
  connection = createRedisConnection(testRedisUrl(), 'worker')
  await waitUntilReady(connection)
})
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.stop('SIGKILL')
  await queue.close()
})
afterAll(async () => {
  await connection.quit()
  await sim.close()
  // The runs use their own queue prefixes (`-tracks`, `-pages`): their keys (identity cache entries
  // with a day's TTL among them) are not under `prefix:`.
  for (const queuePrefix of [prefix, `${prefix}-tracks`, `${prefix}-pages`]) {
    await cleanupPrefix(testRedisUrl(), queuePrefix)
  }
})

async function startWorker(queuePrefix: string): Promise<AppProcess> {
  const port = await freePort()
  const proc = await spawnApp({
    args: [main],
    env: testEnv(testRedisUrl(), queuePrefix, sim.baseUrl, {
      METRICS_PORT: String(port),
      WORKER_CONCURRENCY: '20',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '400',
    }),
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
    readyTimeoutMs: 60_000,
  })
  running.push(proc)
  return proc
}

const eventNumbers = async (): Promise<number[]> =>
  (await sim.admin.events('acme')).events.map(e => Number((e.data as { n?: number }).n))

async function drained(): Promise<boolean> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed')
  return Object.values(counts).every(n => n === 0)
}

describe('chaos: SIGKILLs, lost responses and 5xx', () => {
  it('3,000 tracks, 200 users, 3 workers, 3 SIGKILLs, 5 % lost responses, 10 % 5xx: 0 lost, 0 duplicates', async () => {
    const queuePrefix = `${prefix}-tracks`
    queue = createEventsQueue(connection, queuePrefix)
    const TOTAL = 3000
    await sim.admin.setFaults({ lostResponseRate: 0.05, errorRate: 0.1, errorStatus: 503, latencyMs: 2 })
    for (let i = 0; i < 3; i++) await startWorker(queuePrefix)
    await enqueue(
      queue,
      Array.from({ length: TOTAL }, (_, n) => track(`u-${n % 200}`, n)),
    )
    for (const after of [400, 1200, 2000]) {
      await waitFor(async () => (await eventNumbers()).length >= after, {
        timeoutMs: 240_000,
        intervalMs: 250,
        description: `${after} occurrences recorded`,
      })
      const victim = running.shift()
      const result = await victim?.kill()
      expect(result?.signal).toBe('SIGKILL')
      await startWorker(queuePrefix)
    }
    await waitFor(async () => new Set(await eventNumbers()).size === TOTAL && (await drained()), {
      timeoutMs: 300_000,
      intervalMs: 1000,
      description: 'every track delivered and the queue drained',
    })
    const { events, duplicates } = await sim.admin.events('acme')
    const distinct = new Set(events.map(e => Number((e.data as { n?: number }).n))).size
    const requests = await sim.admin.requests('acme')
    const extra = duplicates.reduce((sum, d) => sum + d.count - 1, 0)
    console.log(
      `chaos tracks: ${TOTAL} sent, ${distinct} delivered, lost ${TOTAL - distinct}, duplicate groups ` +
        `${duplicates.length} (extra occurrences ${extra}); POST /events/ ${JSON.stringify(requests['POST /events/'])}; ` +
        `listings ${JSON.stringify(requests['GET /users-by-id/:custom_id/events/'] ?? {})}`,
    )
    expect(TOTAL - distinct).toBe(0)
    expect(duplicates).toEqual([])
    expect(events).toHaveLength(TOTAL)
    // The faults did happen: lost responses on POST /events/ and 5xx answers.
    expect(requests['POST /events/']?.['504-applied'] ?? 0).toBeGreaterThan(0)
    expect(requests['POST /events/']?.['503'] ?? 0).toBeGreaterThan(0)
  }, 600_000)

  it('page views (not covered: no lookup in the API) are never lost; the re-sent ones are counted', async () => {
    const queuePrefix = `${prefix}-pages`
    queue = createEventsQueue(connection, queuePrefix)
    const TOTAL = 500
    await sim.admin.setFaults({ lostResponseRate: 0.05, errorRate: 0, latencyMs: 0 })
    await startWorker(queuePrefix)
    await enqueue(
      queue,
      Array.from({ length: TOTAL }, (_, n) => page(`p-${n % 50}`)),
    )
    const views = async () => (await sim.admin.summary()).apps.acme?.totals.pageViews ?? 0
    await waitFor(async () => (await views()) >= TOTAL && (await drained()), {
      timeoutMs: 120_000,
      intervalMs: 500,
      description: 'every page delivered and the queue drained',
    })
    const total = await views()
    console.log(
      `chaos pages: ${TOTAL} sent, ${total} page views recorded (${total - TOTAL} re-sent after a lost answer)`,
    )
    expect(total).toBeGreaterThanOrEqual(TOTAL)
  }, 300_000)
})
