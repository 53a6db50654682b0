import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, type DeadLetterQueue, type EventsQueue } from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { connect, makeEvent, NOW, openDlq, runCli, seedDlq } from './helpers'
import { RECORDS } from './dlq-fixtures'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let redis: Redis
let dlq: DeadLetterQueue
let events: EventsQueue

const cli = (...argv: string[]) => runCli(url, prefix, argv)

beforeAll(async () => {
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
  events = createEventsQueue(redis, prefix)
})

beforeEach(async () => {
  await cleanupPrefix(url, prefix)
  await seedDlq(dlq, RECORDS)
})

afterAll(async () => {
  await Promise.all([dlq.close(), events.close()])
  await cleanupPrefix(url, prefix)
  await redis.quit()
})

describe('stats', () => {
  it('counts per queue and state, DLQ by reason and tenant, oldest waiting, workers, paused, rate limit', async () => {
    for (let n = 10; n < 13; n += 1) {
      await events.add('track', {
        tenantId: 'acme',
        event: makeEvent({ n }) as never,
        receivedAt: NOW.toISOString(),
      })
    }
    await events.add(
      'track',
      { tenantId: 'acme', event: makeEvent({ n: 13 }) as never, receivedAt: NOW.toISOString() },
      { delay: 60_000 },
    )
    await events.add(
      'track',
      { tenantId: 'acme', event: makeEvent({ n: 14 }) as never, receivedAt: NOW.toISOString() },
      { priority: 5 },
    )

    const run = await cli('stats', '--json')
    expect(run.code).toBe(0)
    const stats = JSON.parse(run.stdout)
    expect(stats.prefix).toBe(prefix)
    expect(stats.events.counts).toEqual({
      waiting: 3,
      active: 0,
      delayed: 1,
      prioritized: 1,
      failed: 0,
      paused: 0,
    })
    expect(stats.events.workers).toBe(0)
    expect(stats.events.paused).toBe(false)
    expect(stats.events.rateLimited).toBe(false)
    expect(stats.events.oldestWaitingAt).not.toBeNull()
    expect(typeof stats.events.oldestWaitingAgeMs).toBe('number')
    expect(stats.deadLetter.total).toBe(5)
    expect(stats.deadLetter.counts.waiting).toBe(5)
    expect(stats.deadLetter.byReason).toEqual({ forbidden: 3, exhausted: 1, rejected: 1 })
    expect(stats.deadLetter.byTenant).toEqual({ acme: 3, globex: 2 })
    expect(stats.deadLetter.oldestDeadAt).toBe(RECORDS[0]!.deadAt)

    const table = await cli('stats')
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^events\nSTATE\s+JOBS\nwaiting\s+3\n/m)
    expect(table.stdout).toMatch(/workers connected: 0/)
    expect(table.stdout).toMatch(/dead-letter: 5 records/)
    expect(table.stdout).toMatch(/REASON\s+RECORDS\nforbidden\s+3\nexhausted\s+1\nrejected\s+1/)
    expect(table.stdout).toMatch(/TENANT\s+RECORDS\nacme\s+3\nglobex\s+2/)
  })

  it('sees a paused, rate-limited queue and connected workers', async () => {
    await events.add('track', {
      tenantId: 'acme',
      event: makeEvent({ n: 20 }) as never,
      receivedAt: NOW.toISOString(),
    })
    await events.pause()
    await events.rateLimit(60_000)
    const workerConnection = createRedisConnection(url, 'worker')
    const worker = new Worker('events', async () => undefined, {
      connection: workerConnection,
      prefix,
      autorun: false,
    })
    try {
      await worker.waitUntilReady()
      const stats = JSON.parse((await cli('stats', '--json')).stdout)
      expect(stats.events.paused).toBe(true)
      expect(stats.events.counts.paused).toBe(1)
      expect(stats.events.counts.waiting).toBe(0)
      expect(stats.events.rateLimited).toBe(true)
      expect(stats.events.rateLimitTtlMs).toBeGreaterThan(0)
      expect(stats.events.workers).toBeGreaterThanOrEqual(1)
      const table = (await cli('stats')).stdout
      expect(table).toMatch(/paused: yes/)
      expect(table).toMatch(/rate limited: yes, .* left/)
    } finally {
      await worker.close()
      await workerConnection.quit()
      await events.resume()
    }
  })
})
