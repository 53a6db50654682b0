import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, waitUntilReady, type EventsQueue } from '@ucd/queue'
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
import { API_KEY, enqueue, testEnv } from './helpers'

// Identity resolution with separate worker processes (the built dist/main.js) against the simulator:
// the anonymous history follows the person (also while it is still in the queue, two workers
// interleaving), two people are never merged, alias merges, one merge call per visitor at most.

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

async function setup(): Promise<{ prefix: string; queue: EventsQueue }> {
  const prefix = `${filePrefix}-${++testNo}`
  prefixes.push(prefix)
  const connection: Redis = createRedisConnection(testRedisUrl(), 'worker')
  await waitUntilReady(connection)
  const queue = createEventsQueue(connection, prefix)
  closers.push(
    () => connection.quit().catch(() => connection.disconnect()),
    () => queue.close(),
  )
  return { prefix, queue }
}

async function startWorker(prefix: string): Promise<string> {
  const port = await freePort()
  const proc = await spawnApp({
    args: [main],
    env: testEnv(testRedisUrl(), prefix, sim.baseUrl, {
      METRICS_PORT: String(port),
      WORKER_CONCURRENCY: '8',
    }),
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
  })
  running.push(proc)
  return `http://127.0.0.1:${port}/metrics`
}

const at = '2026-11-28T10:00:00.000Z'
const ids = (userId: string | undefined, anonymousId: string | undefined) => ({
  ...(userId === undefined ? {} : { userId }),
  ...(anonymousId === undefined ? {} : { anonymousId }),
  timestamp: at,
  receivedAt: at,
})
const page = (anonymousId: string, path: string): SegmentEvent =>
  testEvent('page', { ...ids(undefined, anonymousId), properties: { url: `https://shop.example${path}` } })
const track = (userId: string | undefined, anonymousId: string | undefined, name: string): SegmentEvent =>
  testEvent('track', { ...ids(userId, anonymousId), event: name, properties: {} })
const identify = (userId: string, anonymousId: string, traits: Record<string, unknown>): SegmentEvent =>
  testEvent('identify', { ...ids(userId, anonymousId), traits })
const alias = (userId: string, previousId: string): SegmentEvent =>
  testEvent('alias', { ...ids(userId, undefined), previousId })

const app = async () => {
  const state = (await sim.admin.state('acme')).apps.acme
  if (!state) throw new Error('no app state')
  return state
}
const merges = () => sim.admin.requestCount('POST /users/merge/')
const wait = (what: string, check: () => Promise<boolean>) =>
  waitFor(check, { timeoutMs: 60_000, intervalMs: 200, description: what })

/** Every user's history, by custom id: page views and events. */
async function histories(): Promise<Record<string, { pages: number; events: number }>> {
  const { users, pageViews, events } = await app()
  return Object.fromEntries(
    users.map(u => [
      u.custom_id ?? `#${u.id}`,
      {
        pages: pageViews.filter(v => v.user_id === u.id).length,
        events: events.filter(e => e.user_id === u.id).length,
      },
    ]),
  )
}

describe('identity with worker processes', () => {
  it('anonymous pages ×2 and a track, then identify: one user; a later anonymous page lands on it', async () => {
    const { prefix, queue } = await setup()
    await startWorker(prefix)
    await enqueue(queue, [page('anon-a', '/1'), page('anon-a', '/2'), track(undefined, 'anon-a', 'Added')])
    await wait(
      '3 anonymous events',
      async () => (await app()).events.length + (await app()).pageViews.length === 3,
    )
    await enqueue(queue, [identify('user-a', 'anon-a', { email: 'a@example.com', first_name: 'Ada' })])
    await wait('the merge', async () => (await merges()) === 1)
    await enqueue(queue, [page('anon-a', '/3')])
    await wait('the later page', async () => (await app()).pageViews.length === 3)
    expect(await histories()).toEqual({ 'user-a': { pages: 3, events: 1 } })
    expect((await app()).users[0]).toMatchObject({ email: 'a@example.com', first_name: 'Ada' })
    expect(await merges()).toBe(1)
  })

  it('the anonymous events still queued when the identify runs (2 workers, interleaved): one user each, nothing lost', async () => {
    const { prefix, queue } = await setup()
    await Promise.all([startWorker(prefix), startWorker(prefix)])
    await sim.admin.setFaults({ latencyMs: 20 })
    const visitors = Array.from({ length: 6 }, (_, n) => n)
    // Per visitor: two anonymous pages, an anonymous track, the identify, and two events with both ids,
    // all queued at once: the workers take them in any order, at the same time.
    await enqueue(
      queue,
      visitors.flatMap(n => [
        page(`v-${n}`, '/1'),
        page(`v-${n}`, '/2'),
        track(undefined, `v-${n}`, 'Added'),
        identify(`u-${n}`, `v-${n}`, { first_name: `N${n}` }),
        track(`u-${n}`, `v-${n}`, 'Paid'),
        track(`u-${n}`, `v-${n}`, 'Shipped'),
      ]),
    )
    const expected = Object.fromEntries(visitors.map(n => [`u-${n}`, { pages: 2, events: 3 }]))
    await wait('every visitor on its identified user', async () => {
      const h = await histories()
      return (
        JSON.stringify(Object.keys(h).sort()) === JSON.stringify(Object.keys(expected).sort()) &&
        Object.values(h).every(x => x.pages === 2 && x.events === 3)
      )
    })
    expect(await histories()).toEqual(expected)
    const byVisitor = new Map<string, number>()
    for (const m of (await app()).merges) {
      for (const u of m.merged) byVisitor.set(u.custom_id ?? '', (byVisitor.get(u.custom_id ?? '') ?? 0) + 1)
    }
    for (const count of byVisitor.values()) expect(count).toBe(1)
    expect(await merges()).toBeLessThanOrEqual(visitors.length)
  })

  it('identify(u3, a) then identify(u4, a): two users, no merge of the two, counted as refused', async () => {
    const { prefix, queue } = await setup()
    const metricsUrl = await startWorker(prefix)
    await enqueue(queue, [identify('u3', 'shared', { email: 'u3@example.com' })])
    await wait('u3', async () => (await app()).users.length === 1)
    await enqueue(queue, [identify('u4', 'shared', { email: 'u4@example.com' })])
    await wait('u4', async () => (await app()).users.length === 2)
    expect((await app()).users.map(u => u.custom_id).sort()).toEqual(['u3', 'u4'])
    expect(await merges()).toBe(0)
    const metrics = await (await fetch(metricsUrl)).text()
    expect(metrics).toContain(
      'ucd_worker_identity_merges_total{tenant="default",outcome="refused_conflict"} 1',
    )
  })

  it('alias(previousId p, userId u) after activity under p: one user', async () => {
    const { prefix, queue } = await setup()
    await startWorker(prefix)
    await enqueue(queue, [page('p', '/1'), track(undefined, 'p', 'Signed Up')])
    await wait(
      'the activity under p',
      async () => (await app()).events.length === 1 && (await app()).pageViews.length === 1,
    )
    await enqueue(queue, [alias('u', 'p')])
    await wait('the merge', async () => (await merges()) === 1)
    expect(await histories()).toEqual({ u: { pages: 1, events: 1 } })
  })
})
