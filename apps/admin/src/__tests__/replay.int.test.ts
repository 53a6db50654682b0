import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  createRedisConnection,
  EVENT_JOB_OPTIONS,
  eventJobId,
  MAX_EVENT_ATTEMPTS,
  type DeadLetterQueue,
  type DeadLetterRecord,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { UnrecoverableError, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import {
  connect,
  dumpPrefix,
  eventsJobOf,
  makeRecord,
  NOW,
  openDlq,
  runCli,
  seedDlq,
  waitingIds,
} from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let redis: Redis
let dlq: DeadLetterQueue
let events: EventsQueue

const cli = (argv: string[], extra = {}) => runCli(url, prefix, argv, extra)
const dlqIds = (): Promise<string[]> => waitingIds(dlq)
const eventsJob = (record: DeadLetterRecord) => eventsJobOf(events, record)

beforeAll(async () => {
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
  events = createEventsQueue(redis, prefix)
})

beforeEach(async () => {
  await cleanupPrefix(url, prefix)
})

afterAll(async () => {
  await Promise.all([dlq.close(), events.close()])
  await cleanupPrefix(url, prefix)
  await redis.quit()
})

describe('dlq replay', () => {
  it('re-enqueues by id: same job id and messageId, fresh attempts, replay count raised, then removes the record', async () => {
    const records = [
      makeRecord({ n: 1, replays: 0 }),
      makeRecord({ n: 2, replays: 2, tenantId: 'globex', type: 'identify' }),
      makeRecord({ n: 3 }),
    ]
    const ids = await seedDlq(dlq, records)
    const run = await cli(['dlq', 'replay', ids[0]!, ids[1]!])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'Replay done: 2 records selected; replayed 2, already queued 0, failed 0, skipped 0.\n',
    )
    expect(await dlqIds()).toEqual([ids[2]])

    for (const [i, count] of [
      [0, 1],
      [1, 3],
    ] as const) {
      const record = records[i]!
      const job = await eventsJob(record)
      expect(job).toBeDefined()
      expect(job!.id).toBe(eventJobId(record.tenantId, `msg-${i + 1}`))
      expect(job!.name).toBe(record.event.type)
      const data: EventJobData = job!.data
      expect(data).toEqual({
        tenantId: record.tenantId,
        event: record.event,
        receivedAt: record.receivedAt,
        replay: { count, at: NOW.toISOString() },
      })
      expect(data.event.messageId).toBe(`msg-${i + 1}`)
      expect(data).not.toHaveProperty('delivery')
      expect(job!.attemptsMade).toBe(0)
      expect(job!.opts.attempts).toBe(MAX_EVENT_ATTEMPTS)
      expect(job!.opts.removeOnComplete).toBe(EVENT_JOB_OPTIONS.removeOnComplete)
      expect(await job!.getState()).toBe('waiting')
    }
    expect(await eventsJob(records[2]!)).toBeUndefined()
  })

  it('replays by filters and with --all, oldest first', async () => {
    const records = [
      makeRecord({ n: 1, reason: 'forbidden', tenantId: 'acme' }),
      makeRecord({ n: 2, reason: 'rejected', tenantId: 'acme' }),
      makeRecord({ n: 3, reason: 'forbidden', tenantId: 'globex' }),
      makeRecord({ n: 4, reason: 'exhausted', tenantId: 'acme', deadMinutesAgo: 600 }),
    ]
    const ids = await seedDlq(dlq, records)
    const forbidden = await cli(['dlq', 'replay', '--reason', 'forbidden', '--json'])
    expect(forbidden.code).toBe(0)
    expect(JSON.parse(forbidden.stdout)).toMatchObject({
      selected: 2,
      replayed: 2,
      alreadyQueued: 0,
      failed: 0,
      skipped: 0,
    })
    expect(await dlqIds()).toEqual([ids[1], ids[3]].sort())

    expect((await cli(['dlq', 'replay', '--until', '1h'])).stdout).toMatch(/replayed 1,/)
    expect(await dlqIds()).toEqual([ids[1]])

    const all = await cli(['dlq', 'replay', '--all'])
    expect(all.code).toBe(0)
    expect(all.stdout).toMatch(/1 record selected; replayed 1,/)
    expect(await dlqIds()).toEqual([])
    const waiting = await events.getWaiting(0, -1)
    expect(waiting.map(j => j.data.event.messageId).sort()).toEqual(['msg-1', 'msg-2', 'msg-3', 'msg-4'])
  })

  it('--limit replays at most that many, oldest first', async () => {
    const ids = await seedDlq(
      dlq,
      [1, 2, 3].map(n => makeRecord({ n })),
    )
    const run = await cli(['dlq', 'replay', '--all', '--limit', '2'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/2 records selected; replayed 2,/)
    expect(await dlqIds()).toEqual([ids[2]])
  })

  it('refuses with no selector, or ids with --all, and changes nothing', async () => {
    const ids = await seedDlq(dlq, [makeRecord({ n: 1 })])
    const before = await dumpPrefix(redis, prefix)
    const none = await cli(['dlq', 'replay'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/say which records to replay: ids, filters .*, or --all/)
    const both = await cli(['dlq', 'replay', ids[0]!, '--all'])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/ids or --all, not both/)
    const rate = await cli(['dlq', 'replay', '--all', '--rate', '0'])
    expect(rate.code).toBe(2)
    expect(rate.stderr).toMatch(/--rate: "0" is not a positive number/)
    const unknown = await cli(['dlq', 'replay', ids[0]!, 'acme-nope-r0'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/No dead-letter record has the id "acme-nope-r0"/)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)
  })

  it('handles an events job that already has the id: queued ones count as such, stale ones are replaced', async () => {
    const records = [1, 2, 3, 4, 5].map(n => makeRecord({ n }))
    const ids = await seedDlq(dlq, records)
    const dataOf = (record: DeadLetterRecord, note: string): EventJobData => ({
      tenantId: record.tenantId,
      event: record.event as EventJobData['event'],
      receivedAt: record.receivedAt!,
      delivery: { firstAttemptAt: 1, checkpoints: { note } },
    })
    const jobId = (r: DeadLetterRecord) => eventJobId(r.tenantId, r.event.messageId as string)
    // 1: waiting, 2: delayed (the same event is already on its way)
    await events.add('track', dataOf(records[0]!, 'waiting'), { jobId: jobId(records[0]!) })
    await events.add('track', dataOf(records[1]!, 'delayed'), { jobId: jobId(records[1]!), delay: 600_000 })
    // 3: failed, 4: completed and kept (stale: BullMQ would silently ignore an add with their id)
    await events.add('fail', dataOf(records[2]!, 'failed'), { jobId: jobId(records[2]!), attempts: 1 })
    await events.add('ok', dataOf(records[3]!, 'completed'), {
      jobId: jobId(records[3]!),
      removeOnComplete: false,
    })
    const workerConnection = createRedisConnection(url, 'worker')
    const worker = new Worker<EventJobData>(
      'events',
      async job => {
        if (job.name === 'fail') throw new UnrecoverableError('User.com said no')
        return 'done'
      },
      { connection: workerConnection, prefix },
    )
    try {
      await waitFor(
        async () => {
          const counts = await events.getJobCounts('failed', 'completed', 'waiting', 'active')
          return counts.failed === 1 && counts.completed === 1 && counts.waiting === 0 && counts.active === 0
        },
        { description: 'the worker to fail job 3 and complete jobs 1 and 4' },
      )
      await worker.close()
    } finally {
      await workerConnection.quit()
    }
    expect(await (await events.getJob(jobId(records[2]!)))!.getState()).toBe('failed')
    expect(await (await events.getJob(jobId(records[3]!)))!.getState()).toBe('completed')
    // 1 and 2 again: the worker took the waiting one; queue them again as they were.
    await events.remove(jobId(records[0]!))
    await events.add('track', dataOf(records[0]!, 'waiting'), { jobId: jobId(records[0]!) })

    const dry = await cli(['dlq', 'replay', '--all', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(new RegExp(`${ids[0]}.*already queued \\(events job .* is waiting\\)`))
    expect(dry.stdout).toMatch(new RegExp(`${ids[1]}.*already queued \\(events job .* is delayed\\)`))
    expect(dry.stdout).toMatch(new RegExp(`${ids[2]}.*replay -> events job ${jobId(records[2]!)}`))

    const run = await cli(['dlq', 'replay', '--all'])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'Replay done: 5 records selected; replayed 3, already queued 2, failed 0, skipped 0.\n',
    )
    expect(await dlqIds()).toEqual([])
    // The queued ones are untouched...
    expect((await events.getJob(jobId(records[0]!)))!.data.delivery?.checkpoints).toEqual({ note: 'waiting' })
    expect(await (await events.getJob(jobId(records[1]!)))!.getState()).toBe('delayed')
    // ...the stale ones were replaced by fresh replayed jobs.
    for (const record of [records[2]!, records[3]!, records[4]!]) {
      const job = await events.getJob(jobId(record))
      expect(await job!.getState()).toBe('waiting')
      expect(job!.data.replay).toEqual({ count: 1, at: NOW.toISOString() })
      expect(job!.data).not.toHaveProperty('delivery')
      expect(job!.attemptsMade).toBe(0)
      expect(job!.failedReason).toBeFalsy()
    }
  })
})
