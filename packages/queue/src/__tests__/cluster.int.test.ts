import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { startRedisCluster, uniquePrefix, waitFor, type RedisClusterHandle } from '@ucd/testing'
import { Worker } from 'bullmq'
import { Cluster, Redis } from 'ioredis'
import {
  DeadLetterRecordSchema,
  EVENTS_QUEUE,
  EventJobDataSchema,
  createDeadLetterQueues,
  createEventsQueues,
  createRedisConnection,
  dedupeKey,
  eventJobId,
  shardOf,
  shardPrefix,
  shardPrefixes,
  waitUntilReady,
  type EventJobData,
} from '../index'

// Sharded event queues on a real 3-master Redis Cluster (issue 19): BullMQ through
// createRedisConnection(cluster target), one queue per shard under the shard's hash-tagged prefix.

const SHARDS = 6
let cluster: RedisClusterHandle
/** Slot ranges of each master: [from, to, port]. */
let slotOwners: Array<[number, number, number]>
/** The test's QUEUE_PREFIX (a unique one: the cluster is the test's own, but keep the habit). */
let prefix: string

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 })
  try {
    return await use(redis)
  } finally {
    redis.disconnect()
  }
}

const ownerOf = (slot: number): number => slotOwners.find(([from, to]) => slot >= from && slot <= to)![2]
const slotOf = (key: string): Promise<number> =>
  onNode(cluster.nodes[0]!.port, redis => redis.call('CLUSTER', 'KEYSLOT', key) as Promise<number>)

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 })
  const slots = await onNode(
    cluster.nodes[0]!.port,
    redis => redis.call('CLUSTER', 'SLOTS') as Promise<Array<[number, number, [string, number]]>>,
  )
  slotOwners = slots.map(([from, to, [, port]]) => [from, to, port])
  // Any prefix: shardPrefix chooses each shard's tag so that the shards spread evenly over the slots.
  prefix = uniquePrefix(__filename)
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

const job = (userId: string, messageId: string): EventJobData =>
  EventJobDataSchema.parse({
    tenantId: 'acme',
    receivedAt: '2026-11-28T10:00:00.000Z',
    event: {
      type: 'track',
      event: 'Item Purchased',
      properties: { revenue: 14.99 },
      userId,
      messageId,
      timestamp: '2026-11-28T10:00:00.000Z',
      receivedAt: '2026-11-28T10:00:00.000Z',
      context: {},
      integrations: {},
    },
  })

describe('shard hash tags on the default slot split of a 3-master cluster', () => {
  it.each([3, 6, 12, 24])(
    'put %i shards evenly on the three masters (CLUSTER KEYSLOT of each tag)',
    async shards => {
      for (const base of ['ucd', prefix]) {
        const perMaster = new Map(cluster.nodes.map(node => [node.port, 0]))
        for (const tag of shardPrefixes(base, shards)) {
          const owner = ownerOf(await slotOf(tag))
          perMaster.set(owner, perMaster.get(owner)! + 1)
        }
        expect([...perMaster.values()]).toEqual([shards / 3, shards / 3, shards / 3])
      }
    },
  )
})

describe('Cluster connections', () => {
  it('a producer refuses commands until the cluster is ready; a worker queues them until then', async () => {
    const producer = createRedisConnection(cluster.target, 'producer')
    const consumer = createRedisConnection(cluster.target, 'worker')
    closers.push(
      () => producer.quit(),
      () => consumer.quit(),
    )
    const queued = consumer.ping()
    await expect(producer.ping()).rejects.toThrow(/enableOfflineQueue/)
    expect(await queued).toBe('PONG')
    await waitUntilReady(producer, 20_000)
    expect(await producer.ping()).toBe('PONG')
  })
})

describe('sharded events queues on a Redis Cluster', () => {
  it('process every shard’s jobs with one Worker per shard, and spread the keys over all 3 masters', async () => {
    const producer = createRedisConnection(cluster.target, 'producer')
    const consumer = createRedisConnection(cluster.target, 'worker')
    closers.push(
      () => producer.quit(),
      () => consumer.quit(),
    )
    expect(producer).toBeInstanceOf(Cluster)
    await waitUntilReady(producer, 20_000)

    const queues = createEventsQueues(producer, prefix, SHARDS)
    closers.push(() => queues.close())
    expect(queues.list.map(q => q.prefix)).toEqual(
      Array.from({ length: SHARDS }, (_, shard) => shardPrefix(prefix, shard, SHARDS)),
    )

    // 60 users, 2 events each, every event to its user's shard.
    const sent = Array.from({ length: SHARDS }, () => [] as string[])
    for (let user = 0; user < 60; user++) {
      const data = [job(`user-${user}`, `m-${user}-a`), job(`user-${user}`, `m-${user}-b`)]
      const target = queues.forEvent('acme', data[0]!.event)
      expect(target.shard).toBe(shardOf('acme', `user-${user}`, SHARDS))
      await target.queue.addBulk(
        data.map(d => ({
          name: d.event.type,
          data: d,
          opts: { jobId: eventJobId(d.tenantId, d.event.messageId) },
        })),
      )
      sent[target.shard]!.push(data[0]!.event.messageId, data[1]!.event.messageId)
    }
    expect(sent.every(messageIds => messageIds.length > 0)).toBe(true)

    const processed = Array.from({ length: SHARDS }, () => [] as string[])
    for (const { shard, prefix: shardKeyPrefix } of queues.list) {
      const worker = new Worker<EventJobData>(
        EVENTS_QUEUE,
        async received => {
          processed[shard]!.push(received.data.event.messageId)
        },
        { connection: consumer, prefix: shardKeyPrefix, concurrency: 4 },
      )
      worker.on('error', () => undefined)
      closers.push(() => worker.close())
    }
    await waitFor(() => processed.flat().length === 120, {
      timeoutMs: 30_000,
      description: 'all 120 jobs processed',
    })
    for (let shard = 0; shard < SHARDS; shard++) expect(processed[shard]!.sort()).toEqual(sent[shard]!.sort())

    // Every master holds keys, and only keys of the shards whose tag slot it owns.
    const sizes = await cluster.dbSizes()
    expect(sizes.every(size => size > 0)).toBe(true)
    for (const node of cluster.nodes) {
      const keys = await onNode(node.port, redis => redis.keys('*'))
      const tags = shardPrefixes(prefix, SHARDS)
      const shards = new Set(keys.map(key => tags.findIndex(tag => key.startsWith(`${tag}:`))))
      expect(shards.has(-1)).toBe(false)
      expect(shards.size).toBeGreaterThan(0)
      for (const shard of shards)
        expect(ownerOf(await slotOf(shardPrefix(prefix, shard, SHARDS)))).toBe(node.port)
    }
  })

  it('opens only the shards asked for (WORKER_SHARDS), the dead-letter queues as the events ones', async () => {
    const redis = createRedisConnection(cluster.target, 'producer')
    closers.push(() => redis.quit())
    await waitUntilReady(redis, 20_000)
    const dead = createDeadLetterQueues(redis, prefix, SHARDS, { only: [4, 1] })
    closers.push(() => dead.close())
    expect(dead.list.map(({ shard, prefix: p }) => [shard, p])).toEqual([
      [1, shardPrefix(prefix, 1, SHARDS)],
      [4, shardPrefix(prefix, 4, SHARDS)],
    ])
    expect(() => dead.of(2)).toThrow(/shard 2 of 6 is not open here/)
    const record = DeadLetterRecordSchema.parse({
      tenantId: 'acme',
      event: { type: 'track', userId: 'user-1' },
      reason: 'exhausted',
      error: { code: 'UC_ERR_UNAVAILABLE', message: 'down' },
      attempts: 3,
      firstAttemptAt: '2026-11-28T10:00:00.000Z',
      deadAt: '2026-11-28T14:00:00.000Z',
      sourceJobId: 'acme-d-1',
      replays: 0,
    })
    await dead.of(4).queue.add('exhausted', record, { jobId: 'd-1-r0' })
    expect(await dead.of(4).queue.getJobCounts('waiting')).toEqual({ waiting: 1 })
    expect(await dead.of(1).queue.getJobCounts('waiting')).toEqual({ waiting: 0 })
    expect(await redis.exists(`${shardPrefix(prefix, 4, SHARDS)}:dead-letter:d-1-r0`)).toBe(1)
  })

  it('runs a multi-key script over one shard’s keys, and refuses one over two shards’ keys (CROSSSLOT)', async () => {
    const redis = createRedisConnection(cluster.target, 'producer')
    closers.push(() => redis.quit())
    await waitUntilReady(redis, 20_000)
    const script =
      "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2])"
    const keysOf = (shardKeyPrefix: string) => [
      dedupeKey(shardKeyPrefix, 'acme', 'm-1'),
      `${shardKeyPrefix}:acme:id:3f2a`,
    ]
    const [shard0, shard1] = [shardPrefix(prefix, 0, SHARDS), shardPrefix(prefix, 1, SHARDS)]
    expect(await slotOf(shard0)).not.toBe(await slotOf(shard1))

    expect(await redis.eval(script, 2, ...keysOf(shard0), 'v')).toEqual(['v', 'v'])
    await expect(redis.eval(script, 2, keysOf(shard0)[0]!, keysOf(shard1)[1]!, 'v')).rejects.toThrow(
      /CROSSSLOT/,
    )
    // One shard, on a cluster: the {}-wrapped QUEUE_PREFIX is the one hash tag.
    expect(await redis.eval(script, 2, ...keysOf(shardPrefix(`{${prefix}}`, 0, 1)), 'w')).toEqual(['w', 'w'])
  })
})
