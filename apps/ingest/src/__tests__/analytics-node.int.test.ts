import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Analytics } from '@segment/analytics-node'
import {
  createEventsQueue,
  createRedisConnection,
  EventJobDataSchema,
  waitUntilReady,
  type EventsQueue,
} from '@ucd/queue'
import { cleanupPrefix, freePort, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { scrape, testApp, untilReady, WRITE_KEY } from './helpers'

// The real Segment Node.js library, pointed at the ingest over HTTP with its `host` option: it
// sends its usual /v1/batch with Basic auth, and the events land in Redis as normalised jobs.

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let app: FastifyInstance
let redis: Redis
let queue: EventsQueue
let host: string

beforeAll(async () => {
  ;({ app } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }))
  const port = await freePort()
  await app.listen({ host: '127.0.0.1', port })
  host = `http://127.0.0.1:${port}`
  await untilReady(app)
  redis = createRedisConnection(url, 'producer')
  await waitUntilReady(redis)
  queue = createEventsQueue(redis, prefix)
})

afterAll(async () => {
  await app.close()
  await queue.close()
  await redis.quit()
  await cleanupPrefix(url, prefix)
})

describe('@segment/analytics-node against the ingest', () => {
  it('delivers identify, track, page and group into Redis for the right tenant', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host, flushAt: 10, maxRetries: 2 })
    const errors: unknown[] = []
    analytics.on('error', error => errors.push(error))
    const responses: number[] = []
    analytics.on('http_request', () => responses.push(1))

    analytics.identify({
      userId: 'user-42',
      traits: { email: 'peter@example.com', name: 'Peter Gibbons', plan: 'premium' },
    })
    analytics.track({ userId: 'user-42', event: 'Item Purchased', properties: { revenue: 14.99 } })
    analytics.page({ anonymousId: 'anon-7', name: 'Home', properties: { url: 'https://example.com/' } })
    analytics.group({ userId: 'user-42', groupId: 'company-9', traits: { name: 'Initech', employees: 420 } })
    await analytics.closeAndFlush({ timeout: 20_000 })
    expect(errors).toEqual([])
    expect(responses.length).toBeGreaterThan(0)

    const jobs = await waitFor(
      async () => {
        const waiting = await queue.getJobs(['waiting'])
        return waiting.length >= 4 ? waiting : undefined
      },
      { description: 'four jobs in the events queue' },
    )
    expect(jobs).toHaveLength(4)
    const byType = Object.fromEntries(
      jobs.map(job => [job.data.event.type, EventJobDataSchema.parse(job.data)]),
    )
    expect(Object.keys(byType).sort()).toEqual(['group', 'identify', 'page', 'track'])
    for (const data of Object.values(byType)) {
      expect(data.tenantId).toBe('default')
      expect(data.event.messageId).toMatch(/\S/)
      expect(data.event.context).toMatchObject({
        library: { name: expect.stringContaining('analytics-node') },
      })
      expect(data.event.sentAt).toBeDefined()
      expect(JSON.stringify(data)).not.toContain(WRITE_KEY)
    }
    expect(byType.identify?.event).toMatchObject({
      userId: 'user-42',
      traits: { email: 'peter@example.com', name: 'Peter Gibbons', plan: 'premium' },
    })
    expect(byType.track?.event).toMatchObject({ event: 'Item Purchased', properties: { revenue: 14.99 } })
    expect(byType.page?.event).toMatchObject({ anonymousId: 'anon-7', name: 'Home' })
    expect(byType.group?.event).toMatchObject({
      groupId: 'company-9',
      traits: { name: 'Initech', employees: 420 },
    })

    const metrics = (await scrape(app)).body
    expect(metrics).toMatch(/ucd_ingest_requests_total\{route="\/v1\/batch",status="200"\} [1-9]/)
  })
})
