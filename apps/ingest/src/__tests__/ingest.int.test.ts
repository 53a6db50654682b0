import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  createRedisConnection,
  dedupeKey,
  eventJobId,
  waitUntilReady,
  type EventsQueue,
} from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import {
  auth,
  basic,
  identify,
  json,
  mid,
  post,
  queuedJob,
  scrape,
  testApp,
  track,
  untilReady,
} from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const noDedupePrefix = uniquePrefix(`${__filename}-nodd`)
const brokenPrefix = uniquePrefix(`${__filename}-broken`)

const tenantsFile = JSON.stringify([
  { id: 'acme', writeKeys: ['wk_acme_0001'], usercom: { apiKey: 'uc_acme', baseUrl: 'http://127.0.0.1:1/' } },
  {
    id: 'globex',
    writeKeys: ['wk_globex_0001'],
    usercom: { apiKey: 'uc_globex', baseUrl: 'http://127.0.0.1:1/' },
  },
])

let app: FastifyInstance
let multi: FastifyInstance
let noDedupe: FastifyInstance
let redis: Redis
let queue: EventsQueue
let noDedupeQueue: EventsQueue
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  ;({ app } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }))
  ;({ app: multi } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: prefix }, { tenantsFile }))
  ;({ app: noDedupe } = await testApp({
    REDIS_URL: url,
    QUEUE_PREFIX: noDedupePrefix,
    DEDUPE_WINDOW_MINUTES: '0',
  }))
  redis = createRedisConnection(url, 'producer')
  await waitUntilReady(redis)
  queue = createEventsQueue(redis, prefix)
  noDedupeQueue = createEventsQueue(redis, noDedupePrefix)
  closers.push(
    () => app.close(),
    () => multi.close(),
    () => noDedupe.close(),
    () => queue.close(),
    () => noDedupeQueue.close(),
    () => redis.quit(),
  )
  await Promise.all([untilReady(app), untilReady(multi), untilReady(noDedupe)])
})

afterAll(async () => {
  for (const close of closers) await close()
  for (const p of [prefix, noDedupePrefix, brokenPrefix]) await cleanupPrefix(url, p)
})

const jobOf = (tenantId: string, messageId: string, from: EventsQueue = queue) =>
  queuedJob(from, tenantId, messageId)

describe('dedupe by (tenant, messageId)', () => {
  it('keeps one job when the same messageId comes twice, and says so', async () => {
    const messageId = mid('dup')
    const first = await post(app, '/v1/track', track({ messageId }))
    const second = await post(app, '/v1/t', track({ messageId }))
    expect(json(first)).toMatchObject({ accepted: 1, duplicate: 0 })
    expect(second.statusCode).toBe(200)
    expect(json(second)).toMatchObject({ accepted: 0, duplicate: 1 })
    const jobs = await queue.getJobs(['waiting'])
    expect(jobs.filter(j => j.data.event.messageId === messageId)).toHaveLength(1)
  })

  it('keeps one job when a batch holds the same messageId twice', async () => {
    const messageId = mid('dup-batch')
    const response = await post(app, '/v1/batch', {
      batch: [
        { type: 'track', ...track({ messageId }) },
        { type: 'track', ...track({ messageId }) },
      ],
    })
    expect(json(response)).toMatchObject({ accepted: 1, duplicate: 1 })
  })

  it('remembers with a small marker with the window as TTL, not with the job', async () => {
    const messageId = mid('marker')
    await post(app, '/v1/identify', identify({ messageId }))
    const key = dedupeKey(prefix, 'default', messageId)
    expect(await redis.get(key)).toBe('1')
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(1440 * 60_000 - 60_000)
    expect(ttl).toBeLessThanOrEqual(1440 * 60_000)
    // A worker completes the job (removeOnComplete): the event is still a duplicate.
    await (await queue.getJob(eventJobId('default', messageId)))!.remove()
    const again = await post(app, '/v1/identify', identify({ messageId }))
    expect(json(again)).toMatchObject({ accepted: 0, duplicate: 1 })
    expect(await queue.getJob(eventJobId('default', messageId))).toBeUndefined()
  })

  it('scopes messageIds per tenant', async () => {
    const messageId = mid('tenant')
    const acme = await post(multi, '/v1/track', track({ messageId }), {
      authorization: basic('wk_acme_0001'),
    })
    const globex = await post(multi, '/v1/track', track({ messageId, writeKey: 'wk_globex_0001' }), {})
    expect(json(acme)).toMatchObject({ accepted: 1 })
    expect(json(globex)).toMatchObject({ accepted: 1 })
    expect((await jobOf('acme', messageId))?.data.tenantId).toBe('acme')
    expect((await jobOf('globex', messageId))?.data.tenantId).toBe('globex')
    const acmeAgain = await post(multi, '/v1/track', track({ messageId }), {
      authorization: basic('wk_acme_0001'),
    })
    expect(json(acmeAgain)).toMatchObject({ duplicate: 1 })
    // The single-tenant key is not a key of this deployment.
    expect((await post(multi, '/v1/track', track(), auth)).statusCode).toBe(401)
  })

  it('is off with DEDUPE_WINDOW_MINUTES=0: no markers, a completed event can come again', async () => {
    const messageId = mid('nodd')
    const first = await post(noDedupe, '/v1/track', track({ messageId }))
    expect(json(first)).toMatchObject({ accepted: 1 })
    expect(await redis.exists(dedupeKey(noDedupePrefix, 'default', messageId))).toBe(0)
    await (await noDedupeQueue.getJob(eventJobId('default', messageId)))!.remove()
    const again = await post(noDedupe, '/v1/track', track({ messageId }))
    expect(json(again)).toMatchObject({ accepted: 1, duplicate: 0 })
    expect(await noDedupeQueue.getJob(eventJobId('default', messageId))).toBeDefined()
  })
})

describe('when addBulk fails', () => {
  it('answers 503, keeps no marker, and accepts the retry once Redis works', async () => {
    const { app: broken } = await testApp({ REDIS_URL: url, QUEUE_PREFIX: brokenPrefix })
    closers.push(() => broken.close())
    await untilReady(broken)
    // BullMQ's add script INCRs this key: a value that is not a number makes every add fail.
    await redis.set(`${brokenPrefix}:events:id`, 'not-a-number')
    const messageId = mid('broken')
    const failed = await post(broken, '/v1/track', track({ messageId }))
    expect(failed.statusCode).toBe(503)
    expect(json(failed).code).toBe('UCD_ERR_UNAVAILABLE')
    expect(await redis.exists(dedupeKey(brokenPrefix, 'default', messageId))).toBe(0)
    const metrics = await scrape(broken)
    expect(metrics.body).toMatch(/ucd_ingest_redis_errors_total\{op="enqueue"\} 1/)

    await redis.del(`${brokenPrefix}:events:id`)
    const retried = await post(broken, '/v1/track', track({ messageId }))
    expect(json(retried)).toMatchObject({ accepted: 1, duplicate: 0 })
    expect(await redis.get(dedupeKey(brokenPrefix, 'default', messageId))).toBe('1')
  })
})

describe('operations with Redis', () => {
  it('is ready, and counts accepted and duplicate events', async () => {
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(200)
    expect(json(ready)).toEqual({ status: 'ready', redis: true })
    const text = (await scrape(app)).body
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="accepted",type="track"\} [1-9]/)
    expect(text).toMatch(/ucd_ingest_events_total\{outcome="duplicate",type="track"\} [1-9]/)
    expect(text).toMatch(/ucd_ingest_enqueue_duration_seconds_count\{result="ok"\} [1-9]/)
    expect(text).toMatch(/ucd_ingest_redis_up 1/)
  })
})
