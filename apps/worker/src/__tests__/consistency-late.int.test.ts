import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { uniquePrefix, waitFor } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { API_KEY, enqueue } from './helpers'
import {
  appState,
  counter,
  drained,
  Harness,
  identifyAt,
  minute,
  pageAt,
  trackAt,
} from './consistency-helpers'

// Issue 14: late arrivals change nothing (and are reported `stale`); a user's failing identify holds
// back none of that user's tracks and pages, nor anyone else's events. Separate worker processes.

let sim: RunningSimulator
const harness = new Harness(uniquePrefix(__filename), () => sim)

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] })
})
afterEach(async () => {
  await harness.afterEach()
  await sim.admin.reset()
})
afterAll(async () => {
  await sim.close()
  await harness.afterAll()
})

const values = async (customId: string) => {
  const user = (await appState(sim)).users.find(u => u.custom_id === customId)
  return { email: user?.email, plan: user?.attributes.plan, visits: user?.attributes.visits }
}

describe('late arrivals', () => {
  it('the newest identify lands first; the older ones change nothing and are reported stale', async () => {
    const { prefix, queue } = await harness.setup()
    const workers = await harness.startWorkers(prefix, 2)
    const users = Array.from({ length: 10 }, (_, u) => `late-u${u}`)
    const traits = (userId: string, k: number) => ({
      plan: `plan-${k}`,
      email: `${userId}.v${k}@example.com`,
      visits: 100 + k,
    })
    await enqueue(
      queue,
      users.map(userId => identifyAt(userId, minute(5), traits(userId, 5))),
    )
    await drained(queue, 120_000)
    const before = await Promise.all(users.map(values))
    expect(before[0]).toEqual({ email: 'late-u0.v5@example.com', plan: 'plan-5', visits: '105' })

    await enqueue(
      queue,
      users.flatMap(userId => [0, 1, 2].map(k => identifyAt(userId, minute(k), traits(userId, k)))),
    )
    await drained(queue, 120_000)
    expect(await Promise.all(users.map(values))).toEqual(before)
    // 10 users × 3 older identifies × 3 values each, reported as stale under the tenant.
    const urls = workers.map(w => w.metricsUrl)
    expect(await counter(urls, 'ucd_worker_stale_dropped_total', 'tenant="default"')).toBe(90)
  }, 300_000)
})

describe('no head-of-line blocking', () => {
  it("one user's identify failing for 60 s holds back none of that user's tracks and pages, nor other users", async () => {
    const { prefix, queue } = await harness.setup()
    await harness.startWorkers(prefix, 2)
    // The users exist and are cached (their tracks need no upsert).
    const others = ['hol-o1', 'hol-o2', 'hol-o3']
    await enqueue(
      queue,
      ['hol-slow', ...others].map(u => identifyAt(u, minute(0), { plan: 'start' })),
    )
    await drained(queue, 120_000)

    await sim.admin.failNext({
      method: 'POST',
      route: '/users/update_or_create/',
      customId: 'hol-slow',
      status: 503,
      durationMs: 60_000,
    })
    await enqueue(queue, [identifyAt('hol-slow', minute(10), { plan: 'stuck' })])
    await enqueue(queue, [
      ...[1, 2, 3, 4, 5].flatMap(n => [
        trackAt('hol-slow', minute(10 + n), n),
        pageAt('hol-slow', minute(10 + n), n),
      ]),
      ...others.flatMap((u, i) => [
        identifyAt(u, minute(11), { plan: 'moved' }),
        trackAt(u, minute(12), 100 + i),
      ]),
    ])
    await waitFor(
      async () => {
        const state = await appState(sim)
        const slow = state.users.find(u => u.custom_id === 'hol-slow')
        const slowEvents = state.events.filter(e => e.user_id === slow?.id).length
        const slowPages = state.pageViews.filter(p => p.user_id === slow?.id).length
        const othersMoved = others.every(
          u => state.users.find(x => x.custom_id === u)?.attributes.plan === 'moved',
        )
        return slowEvents === 5 && slowPages === 5 && othersMoved && state.events.length === 8
      },
      {
        timeoutMs: 55_000,
        intervalMs: 250,
        description: "the slow user's tracks and pages and the others' events",
      },
    )
    // All that while the identify still fails: its rule is in force and its value has not landed.
    const state = await sim.admin.state('acme')
    expect(state.pendingFailures).toEqual([expect.objectContaining({ customId: 'hol-slow' })])
    expect((await values('hol-slow')).plan).toBe('start')
    expect(
      await sim.admin.requestCount('POST /users/update_or_create/', { app: 'acme', status: 503 }),
    ).toBeGreaterThan(0)

    // The outage ends: the identify lands (no attempt was lost to a lock).
    await sim.admin.clearFailures()
    await waitFor(async () => (await values('hol-slow')).plan === 'stuck', {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: "the slow user's identify after the outage",
    })
  }, 300_000)
})
