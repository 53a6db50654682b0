import { afterAll, describe, expect, it } from '@jest/globals'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { cleanupPrefix, freePort, startRedisServer, testRedisUrl, uniquePrefix } from '../index'
import { findRedisServerBinary, RedisUnavailableError, startRedis } from '../redis'

const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
})

async function roundTrip(url: string): Promise<string | null> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    await redis.set(`t-roundtrip-${process.pid}`, 'ok', 'EX', 10)
    return await redis.get(`t-roundtrip-${process.pid}`)
  } finally {
    redis.disconnect()
  }
}

describe('startRedis()', () => {
  it('gives a working Redis (the one the global setup resolved)', async () => {
    const handle = await startRedis({ env: { REDIS_URL: testRedisUrl() } })
    expect(handle.source).toBe('REDIS_URL')
    expect(await roundTrip(handle.url)).toBe('ok')
    await handle.stop()
  })

  it('uses 127.0.0.1:6379-style local Redis when REDIS_URL is unset and it answers', async () => {
    const handle = await startRedis({ env: {}, localUrl: testRedisUrl() })
    expect(handle.source).toBe('local')
    expect(handle.url).toBe(testRedisUrl())
  })

  it('fails loudly, never falls back, when REDIS_URL is set but dead', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`
    const attempt = startRedis({ env: { REDIS_URL: dead } })
    await expect(attempt).rejects.toThrow(RedisUnavailableError)
    await expect(startRedis({ env: { REDIS_URL: dead } })).rejects.toThrow(
      /REDIS_URL is set but no Redis answers/,
    )
  })

  it('starts a redis-server binary on a free port when nothing answers locally', async () => {
    expect(findRedisServerBinary()).toBeDefined()
    const dead = `redis://127.0.0.1:${await freePort()}`
    const handle = await startRedis({ env: {}, localUrl: dead, allowContainers: false })
    closers.push(() => handle.stop())
    expect(handle.source).toBe('redis-server')
    expect(handle.url).not.toBe(dead)
    expect(await roundTrip(handle.url)).toBe('ok')
  })

  it('says how to get Redis when there is none to be had', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`
    const attempt = startRedis({ env: {}, localUrl: dead, allowBinary: false, allowContainers: false })
    await expect(attempt).rejects.toThrow(/set REDIS_URL=.*\n.*127\.0\.0\.1:6379.*\n.*redis-server/s)
  })
})

describe('startRedisServer()', () => {
  it('can be killed and started again on the same port', async () => {
    const server = await startRedisServer()
    closers.push(() => server.stop())
    expect(await roundTrip(server.url)).toBe('ok')
    await server.kill()
    const client = new Redis(server.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    })
    client.on('error', () => undefined)
    await expect(client.ping()).rejects.toThrow()
    client.disconnect()
    await server.start()
    expect(await roundTrip(server.url)).toBe('ok')
  })
})

describe('startRedisServer({ persistent: true })', () => {
  it('keeps acknowledged writes across a crash', async () => {
    const server = await startRedisServer({ persistent: true })
    closers.push(() => server.stop())
    const client = new Redis(server.url, { maxRetriesPerRequest: null })
    client.on('error', () => undefined)
    closers.push(async () => client.disconnect())
    await client.set('kept', 'yes')
    await server.kill()
    await server.start()
    expect(await client.get('kept')).toBe('yes')
  })
})

describe('uniquePrefix()', () => {
  it('keeps two test files from seeing each other’s queues', async () => {
    const url = testRedisUrl()
    const prefixA = uniquePrefix('/repo/apps/ingest/src/__tests__/routes.int.test.ts')
    const prefixB = uniquePrefix('/repo/apps/worker/src/__tests__/routes.int.test.ts')
    expect(prefixA).toMatch(/^t-routes-[0-9a-f]{8}$/)
    expect(prefixA).not.toBe(prefixB)
    expect(uniquePrefix(__filename)).not.toBe(uniquePrefix(__filename))

    const connection = { url }
    const queueA = new Queue('events', { connection, prefix: prefixA })
    const queueB = new Queue('events', { connection, prefix: prefixB })
    closers.push(
      () => queueA.close(),
      () => queueB.close(),
    )
    await queueA.addBulk([1, 2, 3].map(n => ({ name: 'e', data: { n } })))
    await queueB.addBulk([1, 2, 3, 4, 5].map(n => ({ name: 'e', data: { n } })))
    expect(await queueA.getWaitingCount()).toBe(3)
    expect(await queueB.getWaitingCount()).toBe(5)

    expect(await cleanupPrefix(url, prefixA)).toBeGreaterThan(0)
    expect(await queueA.getWaitingCount()).toBe(0)
    expect(await queueB.getWaitingCount()).toBe(5)
    await cleanupPrefix(url, prefixB)
  })
})
