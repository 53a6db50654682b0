import { afterAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  createRedisConnection,
  EVENTS_QUEUE,
  eventJobId,
  waitUntilReady,
} from '@ucd/queue'
import { sleep, startRedisServer, waitFor } from '@ucd/testing'
import { Worker } from 'bullmq'
import { json, post, testApp, track, untilReady } from './helpers'

// A full Redis (issue 18): a private redis-server with a small maxmemory and noeviction, as
// infra/redis/redis.conf runs it. The ingest fills it up to INGEST_REDIS_MEMORY_HIGH_PERCENT, then
// answers 503 with the reason (never 200 for an event it did not store); a worker keeps taking and
// completing jobs in the headroom left, which frees memory; the ingest accepts events again without a
// restart.

const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
})

const PREFIX = 'ful'
/** maxmemory = what Redis uses once the queue is open + this; the ingest stops at 50 % of maxmemory. */
const HEADROOM_BYTES = 16_000_000

const padding = 'x'.repeat(900)
const batchOf = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    track({
      type: 'track',
      userId: `u${(from + i) % 7}`,
      messageId: `full-${from + i}`,
      properties: { padding },
    }),
  )

describe('Redis at maxmemory', () => {
  it('answers 503 "full", never 200 for an event not stored; workers drain; the ingest recovers', async () => {
    const server = await startRedisServer()
    closers.push(() => server.stop())
    const { app } = await testApp({
      REDIS_URL: server.url,
      QUEUE_PREFIX: PREFIX,
      INGEST_REDIS_MEMORY_HIGH_PERCENT: '50',
    })
    closers.push(() => app.close())
    await untilReady(app)
    const redis = createRedisConnection(server.url, 'producer', { commandTimeoutMs: 5000 })
    closers.push(async () => redis.disconnect())
    await waitUntilReady(redis)
    // Warm up (scripts loaded, queue keys created), then cap the memory just above what is used.
    expect((await post(app, '/v1/batch', { batch: batchOf(-10, 10) })).statusCode).toBe(200)
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
    await redis.config('SET', 'maxmemory-policy', 'noeviction')
    await redis.config('SET', 'maxmemory', String(used + HEADROOM_BYTES))

    // Fill it: batches of 100 (about 170 KB in Redis each), paced so that the memory guard (4 reads
    // a second) sees the mark long before Redis's own limit, until the ingest refuses.
    const acknowledged: string[] = []
    let refused: { code?: string; message: string } | undefined
    for (let from = 0; from < 50_000 && refused === undefined; from += 100) {
      await sleep(40)
      const batch = batchOf(from, 100)
      const response = await post(app, '/v1/batch', { batch })
      if (response.statusCode === 200) {
        expect(json(response)).toMatchObject({ accepted: 100 })
        acknowledged.push(...batch.map(e => String(e.messageId)))
      } else {
        expect(response.statusCode).toBe(503)
        refused = json(response)
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0)
    expect(refused).toMatchObject({ success: false, code: 'UCD_ERR_UNAVAILABLE' })
    expect(refused?.message).toContain('is full')
    // Single-event requests are refused too, with the same reason.
    const single = await post(app, '/v1/track', track({ messageId: 'full-single' }))
    expect(single.statusCode).toBe(503)
    expect(json(single).message).toContain('full')

    // Every event answered 200 is in Redis.
    const queue = createEventsQueue(redis, PREFIX)
    closers.push(() => queue.close())
    for (const messageId of acknowledged)
      expect(await queue.getJob(eventJobId('default', messageId))).toBeDefined()

    // A worker keeps delivering while Redis is full: it takes and completes (removes) every job.
    const delivered = new Set<string>()
    const workerConnection = createRedisConnection(server.url, 'worker')
    closers.push(async () => workerConnection.disconnect())
    const worker = new Worker(
      EVENTS_QUEUE,
      async job => {
        delivered.add(String(job.data.event.messageId))
      },
      { connection: workerConnection, prefix: PREFIX, concurrency: 20 },
    )
    closers.push(() => worker.close())
    await waitFor(() => acknowledged.every(id => delivered.has(id)), {
      timeoutMs: 60_000,
      description: 'the worker to deliver every acknowledged event while Redis is full',
    })

    // Memory freed: the ingest accepts events again, no restart.
    const again = await waitFor(
      async () => {
        const response = await post(app, '/v1/batch', { batch: batchOf(50_000, 5) })
        return response.statusCode === 200 ? response : undefined
      },
      { timeoutMs: 30_000, description: 'a 200 once the worker freed memory' },
    )
    expect(json(again)).toMatchObject({ accepted: 5 })
  }, 120_000)
})
