import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { loadConfig } from '@ucd/config'
import { createLogger } from '@ucd/logger'
import {
  createDeadLetterQueues,
  createEventsQueues,
  createRedisConnection,
  eventJobId,
  EventJobDataSchema,
  waitUntilReady,
  type DeadLetterQueue,
  type EventsQueue,
  type RedisClient,
  type ShardedQueues,
} from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { testEvent } from '@ucd/segment/testing'
import { startRedisCluster, uniquePrefix, waitFor, type RedisClusterHandle } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { buildWorker, usercomDelivery, type BuiltWorker } from '@ucd/worker'
import { buildCli } from '../index'

// The admin CLI across the DLQ shards of a 3-master Redis Cluster with QUEUE_SHARDS=6 (issue 19):
// a worker dead-letters events of many users (so of every shard), the CLI lists, shows, counts,
// replays each into the events queue of its own shard, and purges, over all shards at once.

const SHARDS = 6
const API_KEY = 'uc_test_key_0123456789abcdef0123456789abcdef0123456789abcdef01234567'
const prefix = uniquePrefix(__filename)
let cluster: RedisClusterHandle
let sim: RunningSimulator
let redis: RedisClient
let events: ShardedQueues<EventsQueue>
let dlq: ShardedQueues<DeadLetterQueue>
let worker: BuiltWorker

beforeAll(async () => {
  ;[cluster, sim] = await Promise.all([
    startRedisCluster({ masters: 3 }),
    startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] }),
  ])
  redis = createRedisConnection(cluster.target, 'producer')
  await waitUntilReady(redis, 20_000)
  events = createEventsQueues(redis, prefix, SHARDS)
  dlq = createDeadLetterQueues(redis, prefix, SHARDS)
  const config = loadConfig(
    {
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_PREFIX: prefix,
      QUEUE_SHARDS: String(SHARDS),
      USERCOM_API_KEY: API_KEY,
      USERCOM_BASE_URL: sim.baseUrl,
      WORKER_CONCURRENCY: '12',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '200',
      WORKER_DRAIN_TIMEOUT_MS: '3000',
      METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
    },
    { app: 'worker' },
  )
  worker = buildWorker({
    config,
    logger: createLogger({ service: 'admin-cluster-test', level: 'silent' }),
    deliveryFor: usercomDelivery,
  })
}, 90_000)

afterAll(async () => {
  await worker?.close(3000)
  await events?.close()
  await dlq?.close()
  await redis?.quit()
  await sim?.close()
  await cluster?.stop()
})

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const run = buildCli({
    config: {
      redisUrl: 'redis://unused:6379',
      queuePrefix: prefix,
      redis: cluster.target,
      queueShards: SHARDS,
    },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    connectTimeoutMs: 20_000,
  })
  const code = await run.run(argv)
  return { code, stdout, stderr }
}

const at = '2026-11-28T10:00:00.000Z'
const track = (userId: string, n: number): SegmentEvent =>
  testEvent('track', { userId, timestamp: at, receivedAt: at, event: 'Order Completed', properties: { n } })

async function enqueue(list: SegmentEvent[]): Promise<void> {
  for (const event of list) {
    const data = EventJobDataSchema.parse({ tenantId: 'default', event, receivedAt: at })
    await events.forEvent('default', event).queue.add(event.type, data, {
      jobId: eventJobId('default', event.messageId),
    })
  }
}

const dlqCounts = async (): Promise<number[]> =>
  Promise.all(dlq.list.map(({ queue }) => queue.getWaitingCount()))
const total = (counts: number[]): number => counts.reduce((a, b) => a + b, 0)
const deliveredCount = async (): Promise<number> =>
  (await sim.admin.state('acme')).apps.acme?.events.length ?? 0

describe('admin CLI on a 3-master Redis Cluster with 6 shards', () => {
  it('lists, shows and counts dead letters of every shard, replays each into its own shard, and purges', async () => {
    // 1. The key is revoked at User.com (403): 30 users' events are dead-lettered, each in its own shard's DLQ.
    await sim.admin.revoke(API_KEY)
    const batch = Array.from({ length: 30 }, (_, n) => track(`user-${n}`, n))
    await enqueue(batch)
    await waitFor(async () => total(await dlqCounts()) === 30, {
      timeoutMs: 60_000,
      description: '30 dead letters',
    })
    const counts = await dlqCounts()
    expect(counts.filter(count => count > 0).length).toBeGreaterThanOrEqual(4)
    for (const event of batch) {
      const { shard } = events.forEvent('default', event)
      expect(await dlq.of(shard).queue.getJob(`${eventJobId('default', event.messageId)}-r0`)).toBeDefined()
    }

    // 2. list, show and stats see all of them.
    const list = await cli('dlq', 'list', '--json', '--limit', '100')
    expect(list.code).toBe(0)
    const listed = JSON.parse(list.stdout) as Array<{ id: string; reason: string }>
    expect(listed).toHaveLength(30)
    expect(new Set(listed.map(r => r.reason))).toEqual(new Set(['forbidden']))
    const lastShard = [...dlq.list].reverse().find(({ shard }) => counts[shard]! > 0)!
    const [lastJob] = await lastShard.queue.getWaiting(0, 0)
    const shown = await cli('dlq', 'show', lastJob!.id!)
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: lastJob!.id, record: { reason: 'forbidden' } })
    const stats = JSON.parse((await cli('stats', '--json')).stdout) as {
      deadLetter: { total: number }
      shards: Array<{ shard: number; deadLetter: number }>
    }
    expect(stats.deadLetter.total).toBe(30)
    expect(stats.shards.map(s => s.deadLetter)).toEqual(counts)

    // 3. Fixed: a replay puts every event back on its own shard, and the worker delivers them.
    await sim.admin.restore(API_KEY)
    const replay = await cli('dlq', 'replay', '--all')
    expect(replay.code).toBe(0)
    expect(replay.stdout).toMatch(/replayed 30, already queued 0, failed 0, skipped 0/)
    await waitFor(async () => (await deliveredCount()) === 30, {
      timeoutMs: 60_000,
      description: '30 delivered',
    })
    expect(total(await dlqCounts())).toBe(0)

    // 4. Dead letters again, then purged across every shard.
    await sim.admin.revoke(API_KEY)
    await enqueue(Array.from({ length: 20 }, (_, n) => track(`other-${n}`, 100 + n)))
    await waitFor(async () => total(await dlqCounts()) === 20, {
      timeoutMs: 60_000,
      description: '20 dead letters',
    })
    expect((await dlqCounts()).filter(count => count > 0).length).toBeGreaterThanOrEqual(3)
    const purge = await cli('dlq', 'purge', '--all', '--yes')
    expect(purge.code).toBe(0)
    expect(purge.stdout).toMatch(/Purged 20 dead-letter records/)
    expect(total(await dlqCounts())).toBe(0)
    expect(await deliveredCount()).toBe(30)
  }, 180_000)
})
