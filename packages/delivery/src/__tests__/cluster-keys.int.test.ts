import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createRedisConnection, shardOf, shardPrefix, waitUntilReady, type RedisClient } from '@ucd/queue'
import { startRedisCluster, uniquePrefix, type RedisClusterHandle } from '@ucd/testing'
import { IdentityCache } from '../identity-cache'
import { userKey, userKeyPrefix } from '../keys'

// Per-user keys on a real 3-master Redis Cluster with QUEUE_SHARDS=6 (issue 19): the identity cache
// works on a Cluster client, and each user's key is in the slot of that user's shard (where the
// ingest puts the user's events), so a script over one user's keys and queue keys stays in one slot.

const SHARDS = 6
const prefix = uniquePrefix(__filename)
let cluster: RedisClusterHandle
let redis: RedisClient

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 })
  redis = createRedisConnection(cluster.target, 'worker')
  await waitUntilReady(redis, 20_000)
}, 90_000)

afterAll(async () => {
  await redis?.quit()
  await cluster?.stop()
})

const slotOf = async (key: string): Promise<number> => Number(await redis.call('CLUSTER', 'KEYSLOT', key))

describe('per-user keys on a Redis Cluster with 6 shards', () => {
  it('the identity cache reads and writes every user’s entry, each in its shard’s slot', async () => {
    const cache = new IdentityCache({
      redis,
      keyPrefix: { prefix, shards: SHARDS },
      tenantId: 'acme',
      ttlSeconds: 60,
      localTtlMs: 0,
      localMaxEntries: 1,
    })
    const users = Array.from({ length: 30 }, (_, n) => `user-${n}@example.com`)
    for (const [n, user] of users.entries()) await cache.set(user, { id: n + 1 })
    const shardsSeen = new Set<number>()
    for (const [n, user] of users.entries()) {
      expect(await cache.get(user)).toEqual({ id: n + 1 })
      const shard = shardOf('acme', user, SHARDS)
      shardsSeen.add(shard)
      const key = userKey({ prefix, shards: SHARDS }, 'acme', user, 'id')
      expect(key.startsWith(`${shardPrefix(prefix, shard, SHARDS)}:acme:id:`)).toBe(true)
      expect(key).not.toContain('example.com')
      expect(await redis.exists(key)).toBe(1)
      // Same slot as the shard's events queue keys.
      expect(await slotOf(key)).toBe(await slotOf(`${shardPrefix(prefix, shard, SHARDS)}:events:wait`))
    }
    expect(shardsSeen.size).toBe(SHARDS)
    // Keys of every shard: on every master.
    for (const size of await cluster.dbSizes()) expect(size).toBeGreaterThan(0)
  })

  it('a script over one user’s key and its shard’s queue key runs; one over two shards fails (CROSSSLOT)', async () => {
    const space = { prefix, shards: SHARDS }
    const script = "return redis.call('EXISTS', KEYS[1]) + redis.call('EXISTS', KEYS[2])"
    const userA = 'user-a'
    const userB = [...Array(50).keys()]
      .map(n => `user-b${n}`)
      .find(u => shardOf('acme', u, SHARDS) !== shardOf('acme', userA, SHARDS))!
    const queueKey = `${userKeyPrefix(space, 'acme', userA)}:events:wait`
    expect(await redis.eval(script, 2, userKey(space, 'acme', userA, 'id'), queueKey)).toBe(0)
    await expect(
      redis.eval(script, 2, userKey(space, 'acme', userA, 'id'), userKey(space, 'acme', userB, 'id')),
    ).rejects.toThrow(/CROSSSLOT/)
  })
})
