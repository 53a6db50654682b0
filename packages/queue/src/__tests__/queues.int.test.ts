import { afterAll, describe, expect, it } from '@jest/globals'
import { cleanupPrefix, startRedisServer, testRedisUrl, uniquePrefix } from '@ucd/testing'
import {
  createEventsQueue,
  createRedisConnection,
  waitUntilReady,
  EventJobDataSchema,
  eventJobId,
  type EventJobData,
} from '../index'

const prefix = uniquePrefix(__filename)
const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
  await cleanupPrefix(testRedisUrl(), prefix)
})

const job = (messageId: string): EventJobData =>
  EventJobDataSchema.parse({
    tenantId: 'acme',
    receivedAt: '2026-11-28T10:00:00.000Z',
    event: {
      type: 'track',
      event: 'Item Purchased',
      properties: { revenue: 14.99 },
      userId: '019mr8mf4r',
      messageId,
      timestamp: '2026-11-28T10:00:00.000Z',
      receivedAt: '2026-11-28T10:00:00.000Z',
      context: {},
      integrations: {},
    },
  })

describe('the events queue', () => {
  it('keeps one job per (tenant, messageId) while it waits', async () => {
    const connection = createRedisConnection(testRedisUrl(), 'producer')
    const queue = createEventsQueue(connection, prefix)
    closers.push(
      () => connection.quit(),
      () => queue.close(),
    )
    const data = job('m-1')
    const jobs = [data, data, job('m-2')].map(d => ({
      name: d.event.type,
      data: d,
      opts: { jobId: eventJobId(d.tenantId, d.event.messageId) },
    }))
    await queue.addBulk(jobs)
    await queue.addBulk(jobs.slice(0, 1))
    expect(await queue.getWaitingCount()).toBe(2)
    const stored = await queue.getJob(eventJobId('acme', 'm-1'))
    expect(EventJobDataSchema.parse(stored?.data).event.messageId).toBe('m-1')
    expect(stored?.opts.removeOnComplete).toBe(true)
  })
})

describe('a producer connection', () => {
  it('fails fast while Redis is away and works again once it is back, without a new client', async () => {
    const server = await startRedisServer()
    closers.push(() => server.stop())
    const connection = createRedisConnection(server.url, 'producer', { commandTimeoutMs: 500 })
    connection.on('error', () => undefined)
    closers.push(async () => connection.disconnect())
    await waitUntilReady(connection)
    expect(await connection.ping()).toBe('PONG')
    await server.kill()
    const started = Date.now()
    await expect(connection.ping()).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(5000)
    await server.start()
    let answer: string | undefined
    for (let i = 0; i < 100 && answer !== 'PONG'; i++) {
      answer = await connection.ping().catch(() => undefined)
      if (answer !== 'PONG') await new Promise(resolve => setTimeout(resolve, 100))
    }
    expect(answer).toBe('PONG')
  })
})
