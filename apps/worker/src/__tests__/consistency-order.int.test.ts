import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@ucd/segment'
import { uniquePrefix } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { API_KEY, enqueue } from './helpers'
import {
  appState,
  counter,
  drained,
  groupAt,
  Harness,
  identifyAt,
  minute,
  shuffled,
} from './consistency-helpers'

// Issue 14, order: whatever order a user's (company's) events are delivered and retried in, by three
// worker processes while User.com fails 20 % of calls with 5xx, each ends with its newest values.

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

const WORKER_ENV = { WORKER_CONCURRENCY: '20', RETRY_BASE_DELAY_MS: '20', RETRY_MAX_DELAY_MS: '200' }

/** Adds the events in batches of `size`, one addBulk each, as many ingest requests would. */
async function sendInBatches(
  queue: Parameters<typeof enqueue>[0],
  events: SegmentEvent[],
  size: number,
): Promise<void> {
  for (let i = 0; i < events.length; i += size) await enqueue(queue, events.slice(i, i + size))
}

describe('per-user consistency, in any order, with 20 % 5xx', () => {
  it('200 users × 6 identifies: every user ends with the values of their newest identify', async () => {
    const { prefix, queue } = await harness.setup()
    const workers = await harness.startWorkers(prefix, 3, WORKER_ENV)
    await sim.admin.setFaults({ errorRate: 0.2, errorStatus: 503 })
    const users = Array.from({ length: 200 }, (_, u) => `order-u${u}`)
    // Version k of user u at 10:00 + k min: distinct plan, email and custom number per version.
    const events = users.flatMap(userId =>
      [0, 1, 2, 3, 4, 5].map(k =>
        identifyAt(userId, minute(k), {
          plan: `plan-${k}`,
          email: `${userId}.v${k}@example.com`,
          visits: 100 + k,
        }),
      ),
    )
    await sendInBatches(queue, shuffled(events, 14), 40)
    await drained(queue, 600_000)
    await sim.admin.setFaults({ errorRate: 0 })

    const metricsUrls = workers.map(w => w.metricsUrl)
    expect(await counter(metricsUrls, 'ucd_dlq_additions_total', '')).toBe(0)
    // The faults did hit: the retries are part of what is tested.
    expect(await counter(metricsUrls, 'ucd_worker_retries_total', '')).toBeGreaterThan(0)
    const byId = new Map((await appState(sim)).users.map(u => [u.custom_id, u]))
    const wrong: string[] = []
    for (const userId of users) {
      const user = byId.get(userId)
      const got = [user?.email, user?.attributes.plan, String(user?.attributes.visits)]
      const want = [`${userId}.v5@example.com`, 'plan-5', '105']
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${userId}: ${JSON.stringify(got)}`)
    }
    expect(wrong).toEqual([])
  }, 900_000)

  it('50 companies × 4 groups: every company ends with the values of its newest group', async () => {
    const { prefix, queue } = await harness.setup()
    const workers = await harness.startWorkers(prefix, 3, WORKER_ENV)
    await sim.admin.setFaults({ errorRate: 0.2, errorStatus: 503 })
    const companies = Array.from({ length: 50 }, (_, c) => `order-co${c}`)
    // Each company's groups come from two members, so two users' jobs write the same company.
    const events = companies.flatMap((groupId, c) =>
      [0, 1, 2, 3].map(k =>
        groupAt(`order-cu${c}-${k % 2}`, groupId, minute(k), {
          name: `${groupId} v${k}`,
          tier: `tier-${k}`,
          seats: 10 + k,
        }),
      ),
    )
    await sendInBatches(queue, shuffled(events, 19), 20)
    await drained(queue, 600_000)
    await sim.admin.setFaults({ errorRate: 0 })

    expect(
      await counter(
        workers.map(w => w.metricsUrl),
        'ucd_dlq_additions_total',
        '',
      ),
    ).toBe(0)
    const byId = new Map((await appState(sim)).companies.map(co => [co.custom_id, co]))
    const wrong: string[] = []
    for (const groupId of companies) {
      const company = byId.get(groupId)
      const got = [company?.name, company?.attributes.tier, String(company?.attributes.seats)]
      const want = [`${groupId} v3`, 'tier-3', '13']
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${groupId}: ${JSON.stringify(got)}`)
      expect(company?.members).toHaveLength(2)
    }
    expect(wrong).toEqual([])
  }, 900_000)
})
