import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { loadConfig } from '@ucd/config'
import { DeadLetterRecordSchema } from '@ucd/queue'
import { testEvent } from '@ucd/segment/testing'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { buildWorker, usercomDelivery, type BuiltWorker } from '../index'
import { enqueue, identify, quietLogger, testEnv, track } from './helpers'

// Issue 18 through the real pipeline (BullMQ, Redis, the simulator): tenant A's User.com answers 429 to
// everything, tenant B's events are all delivered meanwhile; ids unsafe in a path are dead-lettered
// `invalid` with nothing sent for them; hostile trait names stay within the new-attribute budget.

const KEY_A = 'iso-worker-a-0123456789abcdef0123456789abcdef0123456789abcdef0123'
const KEY_B = 'iso-worker-b-0123456789abcdef0123456789abcdef0123456789abcdef0123'
const filePrefix = uniquePrefix(__filename)
const prefixes: string[] = []
let sim: RunningSimulator
let built: BuiltWorker | undefined
let testNo = 0

beforeAll(async () => {
  sim = await startSimulator({
    keys: [
      { key: KEY_A, app: 'alpha' },
      { key: KEY_B, app: 'beta' },
    ],
  })
})
afterEach(async () => {
  await built?.close(5000)
  built = undefined
  await sim.admin.reset()
})
afterAll(async () => {
  await sim.close()
  for (const prefix of prefixes) await cleanupPrefix(testRedisUrl(), prefix)
})

/** A worker serving tenants `a` (app alpha) and `b` (app beta) from a tenants file. */
function startWorker(tenantSettings: Record<string, unknown> = {}): BuiltWorker {
  const prefix = `${filePrefix}-${++testNo}`
  prefixes.push(prefix)
  const tenants = [
    { id: 'a', usercom: { apiKey: KEY_A, baseUrl: sim.baseUrl }, ...tenantSettings },
    { id: 'b', usercom: { apiKey: KEY_B, baseUrl: sim.baseUrl }, ...tenantSettings },
  ]
  const env = {
    // A generous request timeout: the test machine is shared and loaded.
    ...testEnv(testRedisUrl(), prefix, sim.baseUrl, {
      WORKER_CONCURRENCY: '50',
      USERCOM_TIMEOUT_MS: '15000',
    }),
    USERCOM_API_KEY: undefined,
    USERCOM_BASE_URL: undefined,
    TENANTS_FILE: '/tenants.json',
  }
  const config = loadConfig(env, { app: 'worker', readFile: () => JSON.stringify(tenants) })
  built = buildWorker({ config, logger: quietLogger(), deliveryFor: usercomDelivery })
  return built
}

const delivered = async (app: string): Promise<number> =>
  (await sim.admin.summary()).apps[app]?.totals.events ?? 0

describe('per-tenant 429 isolation', () => {
  it("tenant A answers 429 to everything: tenant B's 500 tracks are all delivered meanwhile; A's later, no attempt spent", async () => {
    const w = startWorker()
    // The Done-when is 60 s; the rule lasts longer here so that B's 500 fit in it on a loaded machine.
    await sim.admin.failApp('alpha', { durationMs: 300_000 })
    // A's jobs first in the queue: B's have to get past them.
    const events = (tag: string) => Array.from({ length: 500 }, (_, n) => track(`${tag}-${n % 50}`, n))
    await enqueue(w.events, events('ua'), 'a')
    await enqueue(w.events, events('ub'), 'b')
    await waitFor(async () => (await delivered('beta')) === 500, {
      timeoutMs: 200_000,
      intervalMs: 250,
      description: "B's 500 tracks delivered while A is rate limited",
    })
    // All of B's while A's outage lasted: A has delivered nothing.
    expect(await delivered('alpha')).toBe(0)
    expect(
      await sim.admin.requestCount('POST /users/update_or_create/', { app: 'alpha', status: 429 }),
    ).toBeGreaterThan(0)
    // A's 429s were deferrals: its waiting jobs spent no attempt; B was never deferred.
    const deferrals = await w.metrics.registry.getSingleMetricAsString('ucd_worker_deferrals_total')
    expect(deferrals).toMatch(/why="tenant_rate_limited",tenant="a"} [1-9]/)
    expect(deferrals).not.toMatch(/tenant="b"/)
    const waitingA = [...(await w.events.getDelayed(0, 1000)), ...(await w.events.getWaiting(0, 1000))]
    expect(waitingA.length).toBeGreaterThan(0)
    for (const job of waitingA) {
      expect(job.data.tenantId).toBe('a')
      expect(job.attemptsMade).toBe(0)
    }
    await sim.admin.clearFailures()
    await waitFor(async () => (await delivered('alpha')) === 500, {
      timeoutMs: 200_000,
      intervalMs: 500,
      description: "A's 500 tracks delivered once its outage ended",
    })
    expect(await w.deadLetter.getWaitingCount()).toBe(0)
  }, 450_000)
})

describe('ids unsafe in a path', () => {
  it('a ".." group id is dead-lettered invalid; no request left for it (counted at the simulator)', async () => {
    const w = startWorker()
    const at = '2026-11-28T10:00:00.000Z'
    await enqueue(
      w.events,
      ['..', '.', 'x/../..'].map(groupId =>
        testEvent('group', {
          userId: 'u1',
          groupId,
          timestamp: at,
          receivedAt: at,
          traits: { name: 'Evil' },
        }),
      ),
      'a',
    )
    const records = await waitFor(
      async () => {
        const jobs = await w.deadLetter.getWaiting(0, 10)
        return jobs.length === 3 ? jobs.map(j => DeadLetterRecordSchema.parse(j.data)) : undefined
      },
      { timeoutMs: 60_000, description: 'three group events dead-lettered' },
    )
    for (const record of records) {
      expect(record).toMatchObject({ reason: 'invalid', error: { code: 'UC_ERR_INVALID_PATH' } })
      expect(record.error.message).toMatch(/cannot be sent in a request path/)
    }
    // Only the tenant's attribute catalog was read: no user, company or member call, no unknown path.
    expect(Object.keys(await sim.admin.requests())).toEqual(['GET /attributes/'])
  }, 90_000)
})

describe('hostile trait names', () => {
  it('15 identifies with 30,000-character names create at most the budget; the rest are dropped with a reason', async () => {
    const w = startWorker({ newAttributesPerHour: 5 })
    const hostile = Array.from({ length: 15 }, (_, n) =>
      identify(`h-${n}`, { [`${String.fromCharCode(65 + n)}${'A'.repeat(30_000)}`]: 'x' }),
    )
    await enqueue(w.events, hostile, 'a')
    await enqueue(
      w.events,
      Array.from({ length: 100 }, (_, n) => track(`t-${n}`, n)),
      'a',
    )
    await waitFor(
      async () => {
        const totals = (await sim.admin.summary()).apps.alpha?.totals
        return totals?.events === 100 && totals.users === 115
      },
      { timeoutMs: 150_000, description: '15 identifies and 100 tracks delivered' },
    )
    expect(await sim.admin.requestCount('POST /attributes/', { app: 'alpha', status: 201 })).toBe(5)
    const dropped = await w.metrics.registry.getSingleMetricAsString(
      'ucd_worker_attribute_budget_dropped_total',
    )
    expect(dropped).toMatch(/tenant="a"} 10/)
    expect(await w.deadLetter.getWaitingCount()).toBe(0)
  }, 200_000)
})
