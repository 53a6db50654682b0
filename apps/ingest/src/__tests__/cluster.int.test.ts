import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueues,
  createRedisConnection,
  dedupeKey,
  eventJobId,
  shardOf,
  waitUntilReady,
  type EventsQueue,
  type ShardedQueues,
} from '@ucd/queue'
import { startRedisCluster, type RedisClusterHandle } from '@ucd/testing'
import type { FastifyInstance } from 'fastify'
import type { Cluster } from 'ioredis'
import { json, post, testApp, track, untilReady } from './helpers'

// The ingest on a real, private 3-master Redis Cluster with QUEUE_SHARDS=6 (issue 19): each event
// lands in the queue of shard shardOf(tenant, userId ?? anonymousId), its dedupe marker under that
// shard's hash-tagged prefix (same slot as the queue), and a resend is a duplicate.

const SHARDS = 6
const PREFIX = 'ingc'
let cluster: RedisClusterHandle
let app: FastifyInstance
let redis: Cluster
let queues: ShardedQueues<EventsQueue>

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 })
  ;({ app } = await testApp({
    REDIS_CLUSTER_NODES: cluster.seeds,
    QUEUE_SHARDS: String(SHARDS),
    QUEUE_PREFIX: PREFIX,
    INGEST_LINGER_MS: '2',
  }))
  await untilReady(app, 30_000)
  redis = createRedisConnection(cluster.target, 'producer', { commandTimeoutMs: 5000 })
  await waitUntilReady(redis, 30_000)
  queues = createEventsQueues(redis, PREFIX, SHARDS)
}, 120_000)

afterAll(async () => {
  await queues?.close()
  await app?.close()
  redis?.disconnect()
  await cluster?.stop()
}, 60_000)

const users = Array.from({ length: 40 }, (_, i) => `user-${i}`)
const events = users.flatMap(userId =>
  [0, 1, 2].map(n => track({ type: 'track', userId, messageId: `${userId}-m${n}` })),
)

describe('ingest on a Redis Cluster with QUEUE_SHARDS=6', () => {
  it('routes every event to its shard, with its dedupe marker in the same slot', async () => {
    // Half as one batch, half as concurrent single-event requests (coalesced per shard).
    const half = events.length / 2
    const batch = await post(app, '/v1/batch', { batch: events.slice(0, half) })
    expect(batch.statusCode).toBe(200)
    expect(json(batch)).toMatchObject({ accepted: half, duplicate: 0 })
    const singles = await Promise.all(events.slice(half).map(event => post(app, '/v1/track', event)))
    for (const response of singles) {
      expect(response.statusCode).toBe(200)
      expect(json(response)).toMatchObject({ accepted: 1, duplicate: 0 })
    }

    const expected = new Map<number, string[]>()
    for (const event of events) {
      const shard = shardOf('default', String(event.userId), SHARDS)
      expected.set(shard, [...(expected.get(shard) ?? []), eventJobId('default', String(event.messageId))])
    }
    expect(expected.size).toBeGreaterThan(3)
    for (const { shard, prefix, queue } of queues.list) {
      const ids = (await queue.getJobs(['wait', 'prioritized', 'delayed'], 0, -1)).map(job => job.id)
      expect(ids.sort()).toEqual((expected.get(shard) ?? []).sort())
      for (const event of events.filter(e => shardOf('default', String(e.userId), SHARDS) === shard)) {
        const key = dedupeKey(prefix, 'default', String(event.messageId))
        expect(await redis.get(key)).toBe('1')
        expect(await redis.cluster('KEYSLOT', key)).toBe(
          await redis.cluster('KEYSLOT', `${prefix}:events:wait`),
        )
      }
    }
    // The shards' keys sit on all three masters.
    const sizes = await cluster.dbSizes()
    expect(sizes.filter(size => size > 0).length).toBe(3)
  }, 60_000)

  it('answers a resend of the same messageIds as duplicates: no new job', async () => {
    const counts = async () =>
      Promise.all(queues.list.map(({ queue }) => queue.getJobCountByTypes('wait', 'prioritized', 'delayed')))
    const before = await counts()
    const again = await post(app, '/v1/batch', { batch: events })
    expect(json(again)).toMatchObject({ accepted: 0, duplicate: events.length })
    // Two concurrent requests with one new messageId: one job (coalescing.int.test.ts pins the
    // answers when both fall in one window).
    const fresh = track({ userId: 'user-7', messageId: 'fresh-twice' })
    const both = await Promise.all([post(app, '/v1/track', fresh), post(app, '/v1/track', fresh)])
    for (const response of both) {
      expect(response.statusCode).toBe(200)
      expect(json(response).accepted + json(response).duplicate).toBe(1)
    }
    const after = await counts()
    const shard = shardOf('default', 'user-7', SHARDS)
    expect(after).toEqual(before.map((n, i) => (i === shard ? n + 1 : n)))
  }, 60_000)
})
