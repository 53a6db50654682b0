import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { cleanupPrefix, sleep, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, UsercomServerError, type UsercomClient } from '@ucd/usercom-client'
import { Redis } from 'ioredis'
import { createExecutor, type Checkpoints } from '../executor'
import { dataDigest, inDoubtKey, type InDoubtOutcome } from '../in-doubt'

// In-doubt event occurrences against the simulator: a write whose answer was lost is looked up on the
// next attempt (found → not sent again; not found → created), and only marked steps pay for a listing.

const KEY = 'in-doubt-exec-key-0123456789abcdef0123456789abcdef0123456789abcd'
const LIST = 'GET /users-by-id/:custom_id/events/'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient
let tenants = 0
let outcomes: InDoubtOutcome[] = []

beforeAll(async () => {
  redis = new Redis(testRedisUrl())
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme' }], eventPageSize: 2 })
  client = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 5000, maxSockets: 8 })
})
afterAll(async () => {
  client.close()
  await sim.close()
  await redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})
beforeEach(async () => {
  await sim.admin.reset()
  outcomes = []
  tenants += 1
})

const executor = () =>
  createExecutor({
    tenantId: `t${tenants}`,
    client,
    redis,
    keyPrefix: prefix,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
    onInDoubt: outcome => outcomes.push(outcome),
  })

let messages = 0
function track(userId: string, n: number, at = '2024-05-01T10:00:00.000Z'): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    { messageId: `m-${messages}`, type: 'track', userId, event: 'Paid', properties: { n }, timestamp: at },
    { receivedAt: new Date(at) },
  )
  if (!result.ok) throw new Error('bad test event')
  return result.event
}

/** One attempt as the worker makes it: checkpoints carried over, persisted ones kept aside. */
async function attempt(event: SegmentEvent, saved: Checkpoints) {
  const kept: Checkpoints = { ...saved }
  const persisted: Checkpoints[] = []
  try {
    await executor().deliver(event, {
      checkpoints: saved,
      onStep: (key, value) => {
        if (value === undefined) delete kept[key]
        else kept[key] = value
      },
      persist: async all => {
        persisted.push(all)
      },
    })
    return { ok: true as const, kept, persisted }
  } catch (error) {
    return { ok: false as const, error, kept, persisted }
  }
}

const occurrences = async (customId: string) => (await sim.admin.events('acme', customId)).events.length
const listings = () => sim.admin.requestCount(LIST, { app: 'acme' })

describe('in-doubt event occurrences', () => {
  it('a lost answer (504 after the write): the retry finds the occurrence and does not send it again', async () => {
    const event = track('u1', 1)
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 504, afterApply: true })
    const first = await attempt(event, {})
    expect(first.ok).toBe(false)
    expect(first.error).toBeInstanceOf(UsercomServerError)
    // The marker was persisted before the request went out, and stays after the 504.
    expect(first.persisted).toHaveLength(1)
    expect(first.persisted[0]?.[inDoubtKey('event')]).toMatchObject({
      name: 'Paid',
      digest: dataDigest({ n: 1 }),
    })
    expect(first.kept[inDoubtKey('event')]).toBeDefined()
    const second = await attempt(event, first.kept)
    expect(second.ok).toBe(true)
    expect(outcomes).toEqual(['found'])
    expect(await occurrences('u1')).toBe(1)
    expect(await sim.admin.requestCount('POST /events/', { app: 'acme' })).toBe(1)
    expect(second.kept.event).toEqual({ id: expect.any(Number) })
    expect(second.kept[inDoubtKey('event')]).toBeUndefined()
  })

  it('a 503 before the write: the retry does not find it and creates it once', async () => {
    const event = track('u2', 2)
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 503 })
    const first = await attempt(event, {})
    expect(first.ok).toBe(false)
    const second = await attempt(event, first.kept)
    expect(second.ok).toBe(true)
    expect(outcomes).toEqual(['not_found'])
    expect(await occurrences('u2')).toBe(1)
  })

  it('a worker killed after sending (only the persisted marker survives): found, not duplicated', async () => {
    const event = track('u3', 3)
    const first = await attempt(event, {})
    expect(first.ok).toBe(true)
    // The job data holds what was persisted before the send, not the in-memory result.
    const second = await attempt(event, first.persisted[0] ?? {})
    expect(second.ok).toBe(true)
    expect(outcomes).toEqual(['found'])
    expect(await occurrences('u3')).toBe(1)
  })

  it('matches on name, timestamp and data: a same-named occurrence with other data or time is not it', async () => {
    const ok = await attempt(track('u4', 1), {})
    expect(ok.ok).toBe(true)
    await attempt(track('u4', 2, '2024-05-01T09:00:00.000Z'), {})
    await attempt(track('u4', 3, '2024-05-01T11:00:00.000Z'), {})
    // n 5 at 10:00 was lost before it reached User.com (its marker survived a crash).
    const lost = track('u4', 5)
    const crashed = await attempt(lost, {})
    await sim.admin.reset()
    for (const [n, at] of [
      [1, '2024-05-01T10:00:00.000Z'],
      [2, '2024-05-01T09:00:00.000Z'],
      [3, '2024-05-01T11:00:00.000Z'],
      [4, '2024-05-01T12:00:00.000Z'],
    ] as const)
      expect((await attempt(track('u4', n, at), {})).ok).toBe(true)
    const before = await listings()
    const retried = await attempt(lost, crashed.persisted[0] ?? {})
    expect(retried.ok).toBe(true)
    expect(outcomes).toEqual(['not_found'])
    // Pages of 2, newest first: 12:00+11:00, then 10:00+09:00, where the 09:00 one ends the search.
    expect((await listings()) - before).toBe(2)
    const ns = (await sim.admin.events('acme', 'u4')).events.map(e => (e.data as { n: number }).n)
    expect(ns.sort()).toEqual([1, 2, 3, 4, 5])
  })

  it('an answer that proves no effect (a 429) clears the mark: the retry makes no listing', async () => {
    const event = track('u5', 5)
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 429 })
    const first = await attempt(event, {})
    expect(first.ok).toBe(false)
    expect(first.kept[inDoubtKey('event')]).toBeUndefined()
    // The 429 paused the tenant (at least 1 s, issue 18): the retry comes after the pause, as BullMQ's would.
    await sleep(1_100)
    expect((await attempt(event, first.kept)).ok).toBe(true)
    expect(await listings()).toBe(0)
    expect(outcomes).toEqual([])
  })

  it('deliveries without failures make no listing request', async () => {
    for (let n = 0; n < 20; n++) expect((await attempt(track(`u6-${n % 4}`, n), {})).ok).toBe(true)
    expect(await listings()).toBe(0)
    expect(outcomes).toEqual([])
  })
})
