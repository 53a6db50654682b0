import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueues,
  createRedisConnection,
  eventJobId,
  shardOf,
  shardPrefixes,
  waitUntilReady,
  type EventsQueue,
  type ShardedQueues,
} from '@ucd/queue'
import { testEvent } from '@ucd/segment/testing'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import type { Redis } from 'ioredis'
import { UnavailableError } from '../errors'
import { createIngestMetrics, type IngestMetrics } from '../metrics'
import { EventProducer } from '../producer'
import { ADD_CHUNK, COMMIT_LUA } from '../shard-writer'
import { memoryLogger } from './helpers'

// Request coalescing (issue 20) on a real Redis: requests submitted within one INGEST_LINGER_MS
// window share one reserve, then one write of their adds and the commit per shard; each is answered for its own
// events, a shard whose flush fails answers 503 only to the requests with events in it, and the
// same messageId in two requests of one window is one job.

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const SHARDS = 2
/** Long enough that every enqueue started in one tick lands in one window, even on a loaded machine. */
const LINGER_MS = 200
const receivedAt = '2026-12-07T10:00:00.000Z'
let redis: Redis
let producer: EventProducer
let metrics: IngestMetrics
let queues: ShardedQueues<EventsQueue>
/** A user routed to each shard. */
let userOf: [string, string]

beforeAll(async () => {
  redis = createRedisConnection(url, 'producer')
  await waitUntilReady(redis)
  metrics = createIngestMetrics()
  producer = new EventProducer({
    redis: url,
    prefix,
    shards: SHARDS,
    commandTimeoutMs: 5000,
    dedupeWindowMs: 60_000,
    lingerMs: LINGER_MS,
    lingerMaxEvents: 1000,
    logger: memoryLogger().logger,
    metrics,
  })
  await waitFor(() => producer.ready, { timeoutMs: 15_000, description: 'producer ready' })
  queues = createEventsQueues(redis, prefix, SHARDS)
  const users = Array.from({ length: 20 }, (_, i) => `u${i}`)
  userOf = [
    users.find(u => shardOf('acme', u, SHARDS) === 0)!,
    users.find(u => shardOf('acme', u, SHARDS) === 1)!,
  ]
}, 30_000)

afterEach(async () => {
  // Undo a broken shard (see below) whatever the test's outcome.
  await redis.del(`${queues.of(1).prefix}:events:id`)
})

afterAll(async () => {
  await queues?.close()
  await producer?.close()
  redis?.disconnect()
  for (const shardPrefix of shardPrefixes(prefix, SHARDS)) await cleanupPrefix(url, shardPrefix)
})

const track = (shard: 0 | 1, messageId?: string) =>
  testEvent('track', { userId: userOf[shard], ...(messageId ? { messageId } : {}) })

const jobIds = async (shard: number): Promise<string[]> =>
  (await queues.of(shard).queue.getJobs(['wait', 'prioritized', 'delayed'], 0, -1)).map(j => j.id!).sort()

/** Flushes observed so far: number of flushes and requests they carried. */
async function flushes(): Promise<{ count: number; requests: number }> {
  const { values } = await metrics.flushRequests.get()
  const find = (name: string) => values.find(v => v.metricName === name)?.value ?? 0
  return { count: find('ucd_ingest_flush_requests_count'), requests: find('ucd_ingest_flush_requests_sum') }
}

describe('coalescing producer', () => {
  it('gathers concurrent requests into one flush per shard and answers each with its own events', async () => {
    const before = await flushes()
    const requests = Array.from({ length: 10 }, (_, i) => [track(0), track(1), track((i % 2) as 0 | 1)])
    const results = await Promise.all(requests.map(events => producer.enqueue('acme', events, receivedAt)))
    results.forEach((result, i) => {
      expect(result.accepted.map(e => e.messageId).sort()).toEqual(requests[i]!.map(e => e.messageId).sort())
      expect(result.duplicates).toEqual([])
    })
    const after = await flushes()
    // One flush per shard for the 10 requests (each has events in both shards).
    expect(after.count - before.count).toBe(2)
    expect(after.requests - before.requests).toBe(20)
    const all = requests.flat()
    for (const shard of [0, 1]) {
      const expected = all.filter(e => e.userId === userOf[shard]).map(e => eventJobId('acme', e.messageId))
      expect(await jobIds(shard)).toEqual(expect.arrayContaining(expected))
    }
  }, 30_000)

  it('stores a request larger than one addBulk chunk whole', async () => {
    const before = (await jobIds(0)).length
    const events = Array.from({ length: 1200 }, () => track(0))
    const result = await producer.enqueue('acme', events, receivedAt)
    expect(result.accepted).toHaveLength(1200)
    expect((await jobIds(0)).length).toBe(before + 1200)
  }, 30_000)

  it('makes the same messageId in two requests of one window one job and one duplicate', async () => {
    const event = track(0, `twice-${prefix}`)
    const before = await jobIds(0)
    const [first, second] = await Promise.all([
      producer.enqueue('acme', [event], receivedAt),
      producer.enqueue('acme', [event], receivedAt),
    ])
    expect(first.accepted.map(e => e.messageId)).toEqual([event.messageId])
    expect(second.duplicates.map(e => e.messageId)).toEqual([event.messageId])
    expect(second.accepted).toEqual([])
    const after = await jobIds(0)
    expect(after.length).toBe(before.length + 1)
    expect(after).toContain(eventJobId('acme', event.messageId))
    // Committed: a later request is a duplicate too.
    const later = await producer.enqueue('acme', [event], receivedAt)
    expect(later.duplicates).toHaveLength(1)
  }, 30_000)

  it('commits only the markers whose job exists (the commit leaves in the same write as the adds)', async () => {
    const { prefix: shardPrefix, queue } = queues.of(0)
    const stored = `${shardPrefix}:dd:acme:commit-stored`
    const lost = `${shardPrefix}:dd:acme:commit-lost`
    await redis.set(stored, '0', 'PX', 60_000)
    await redis.set(lost, '0', 'PX', 60_000)
    const job = await queue.add(
      'track',
      { tenantId: 'acme', event: track(0), receivedAt },
      { jobId: 'acme-commit-stored' },
    )
    const committed = await redis.eval(
      COMMIT_LUA,
      4,
      stored,
      lost,
      queue.toKey('acme-commit-stored'),
      queue.toKey('acme-commit-lost'),
      '1',
      120_000,
    )
    expect(committed).toBe(1)
    expect(await redis.get(stored)).toBe('1')
    expect(await redis.pttl(stored)).toBeGreaterThan(60_000)
    // No job: the marker stays pending (the flush rolls it back, or it expires), so a retry of that
    // event is enqueued, not taken for a duplicate.
    expect(await redis.get(lost)).toBe('0')
    expect(await redis.pttl(lost)).toBeLessThanOrEqual(60_000)
    await job.remove()
    await redis.del(stored, lost)
  }, 30_000)

  it('answers 503 when a flush of more than one chunk fails, and stores it whole on the retry', async () => {
    await redis.set(`${queues.of(1).prefix}:events:id`, 'not a number')
    const events = Array.from({ length: ADD_CHUNK + 4 }, () => track(1))
    await expect(producer.enqueue('acme', events, receivedAt)).rejects.toBeInstanceOf(UnavailableError)
    const ids = events.map(e => eventJobId('acme', e.messageId))
    expect(await jobIds(1)).toEqual(expect.not.arrayContaining([ids[0]]))
    await redis.del(`${queues.of(1).prefix}:events:id`)
    const retry = await producer.enqueue('acme', events, receivedAt)
    expect(retry.accepted).toHaveLength(events.length)
    expect(await jobIds(1)).toEqual(expect.arrayContaining(ids))
  }, 30_000)

  it('answers 503 only to the requests whose shard flush failed; nothing is stored twice', async () => {
    // Shard 1's flush fails in Redis: its queue's job counter holds a string, so BullMQ's add
    // script errors on INCR before writing anything (a real script error, not a mock). Shard 0 works.
    await redis.set(`${queues.of(1).prefix}:events:id`, 'not a number')
    const a = track(0)
    const b = track(1)
    const c = [track(0), track(1)]
    const aAgain = testEvent('track', { userId: userOf[0], messageId: a.messageId })
    const settled = await Promise.allSettled([
      producer.enqueue('acme', [a], receivedAt),
      producer.enqueue('acme', [b], receivedAt),
      producer.enqueue('acme', c, receivedAt),
      producer.enqueue('acme', [aAgain], receivedAt),
    ])
    expect(settled.map(s => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    for (const failed of [settled[1], settled[2]]) {
      expect(failed.status === 'rejected' && failed.reason).toBeInstanceOf(UnavailableError)
    }
    if (settled[0].status !== 'fulfilled' || settled[3].status !== 'fulfilled') throw new Error('unreachable')
    expect(settled[0].value.accepted.map(e => e.messageId)).toEqual([a.messageId])
    expect(settled[3].value.duplicates.map(e => e.messageId)).toEqual([a.messageId])
    // Answered 200: stored. Answered 503 in shard 1: not stored, and its markers were rolled back.
    expect(await jobIds(0)).toEqual(
      expect.arrayContaining([a, c[0]!].map(e => eventJobId('acme', e.messageId))),
    )
    const shard1 = await jobIds(1)
    for (const e of [b, c[1]!]) expect(shard1).not.toContain(eventJobId('acme', e.messageId))

    // The clients retry once Redis is healthy: the failed events are accepted, the one that was
    // stored although its request got 503 is a duplicate (not a second job).
    await redis.del(`${queues.of(1).prefix}:events:id`)
    const retryB = await producer.enqueue('acme', [b], receivedAt)
    const retryC = await producer.enqueue('acme', c, receivedAt)
    expect(retryB.accepted.map(e => e.messageId)).toEqual([b.messageId])
    expect(retryC.accepted.map(e => e.messageId)).toEqual([c[1]!.messageId])
    expect(retryC.duplicates.map(e => e.messageId)).toEqual([c[0]!.messageId])
    const ids = [...(await jobIds(0)), ...(await jobIds(1))]
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual(expect.arrayContaining([a, b, ...c].map(e => eventJobId('acme', e.messageId))))
  }, 30_000)
})
