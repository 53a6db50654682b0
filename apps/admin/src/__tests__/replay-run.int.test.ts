import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  createRedisConnection,
  EVENT_JOB_OPTIONS,
  eventJobId,
  type DeadLetterQueue,
  type DeadLetterRecord,
  type EventJobData,
  type EventsQueue,
} from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import {
  connect,
  dlqId,
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

/** Every record is in the DLQ (under its id) or in `events` (under the ingest's job id), or both. */
async function locate(
  records: DeadLetterRecord[],
): Promise<{ inDlq: number; inEvents: number; lost: string[] }> {
  let inDlq = 0
  let inEvents = 0
  const lost: string[] = []
  for (const record of records) {
    const dead = (await redis.exists(dlq.toKey(dlqId(record)))) === 1
    const queued = (await eventsJob(record)) !== undefined
    if (dead) inDlq += 1
    if (queued) inEvents += 1
    if (!dead && !queued) lost.push(dlqId(record))
  }
  return { inDlq, inEvents, lost }
}

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
  it('leaves a record whose events job is still active (being dead-lettered) in the DLQ, to replay later', async () => {
    const record = makeRecord({ n: 70 })
    const [id] = await seedDlq(dlq, [record])
    const jobId = eventJobId(record.tenantId, record.event.messageId as string)
    const data: EventJobData = {
      tenantId: record.tenantId,
      event: record.event as EventJobData['event'],
      receivedAt: record.receivedAt!,
    }
    await events.add('track', data, { ...EVENT_JOB_OPTIONS, jobId })
    // A worker holds the job: it wrote the record and has not completed (removed) the job yet.
    const workerConnection = createRedisConnection(url, 'worker')
    const worker = new Worker<EventJobData>('events', null, {
      connection: workerConnection,
      prefix,
      autorun: false,
    })
    try {
      const active = await worker.getNextJob('dead-lettering', { block: false })
      expect(active?.id).toBe(jobId)
      const run = await cli(['dlq', 'replay', id!])
      expect(run.code).toBe(0)
      expect(run.stdout).toContain('skipped 1')
      expect(run.stderr + run.stdout).toContain('still being dead-lettered')
      expect(await dlqIds()).toEqual([id])
      // The worker completes (and removes) the job; now the replay takes the record.
      await active.moveToCompleted('dead_lettered', 'dead-lettering', false)
      expect(await events.getJob(jobId)).toBeUndefined()
      const again = await cli(['dlq', 'replay', id!])
      expect(again.stdout).toContain('replayed 1')
      expect(await dlqIds()).toEqual([])
      expect((await events.getJob(jobId))?.data.replay?.count).toBe(1)
    } finally {
      await worker.close()
      await workerConnection.quit()
    }
  })

  it('--dry-run prints what would be replayed and changes nothing in Redis', async () => {
    const records = [
      makeRecord({ n: 1, reason: 'forbidden' }),
      makeRecord({ n: 2, reason: 'forbidden', type: 'page' }),
      makeRecord({ n: 3, reason: 'rejected' }),
    ]
    const broken = { ...makeRecord({ n: 4, reason: 'invalid' }), event: { type: 'track', userId: 'u-4' } }
    const ids = await seedDlq(dlq, [...records, broken])
    await events.add(
      'track',
      { tenantId: 'acme', event: records[1]!.event as never, receivedAt: NOW.toISOString() },
      {
        jobId: eventJobId('acme', 'msg-2'),
      },
    )
    const before = await dumpPrefix(redis, prefix)
    const run = await cli(['dlq', 'replay', '--all', '--dry-run'])
    expect(run.code).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines[0]).toMatch(/^ID\s+REASON\s+TENANT\s+TYPE\s+USER\s+REPLAYS\s+WOULD$/)
    expect(lines[1]).toMatch(
      new RegExp(
        `^${ids[0]}\\s+forbidden\\s+acme\\s+track\\s+user-1\\s+0\\s+replay -> events job ${eventJobId('acme', 'msg-1')}$`,
      ),
    )
    expect(lines[2]).toMatch(/already queued/)
    expect(lines[3]).toMatch(/rejected .*replay ->/)
    expect(lines[4]).toMatch(
      new RegExp(`^${ids[3]}\\s+invalid .*skip: the event is not a valid Segment event`),
    )
    expect(run.stdout).toMatch(
      /Dry run: 4 records selected; would replay 2, already queued 1, would skip 1, failed to check 0\. Nothing was changed\./,
    )
    const json = await cli(['dlq', 'replay', '--reason', 'forbidden', '--dry-run', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({
      dryRun: true,
      selected: 2,
      replayed: 1,
      alreadyQueued: 1,
      items: [
        { id: ids[0], outcome: 'replayed', eventsJobId: eventJobId('acme', 'msg-1') },
        { id: ids[1], outcome: 'already-queued' },
      ],
    })
    expect(await dumpPrefix(redis, prefix)).toEqual(before)
  })

  it('skips records that cannot be delivered (left in the DLQ) and says why', async () => {
    const good = makeRecord({ n: 1 })
    const noMessageId = {
      ...makeRecord({ n: 2, reason: 'invalid' }),
      event: { type: 'track', userId: 'u-2' },
    }
    const ids = await seedDlq(dlq, [good, noMessageId])
    await dlq.add('forbidden', { junk: true } as unknown as DeadLetterRecord, { jobId: 'junk-r0' })
    const run = await cli(['dlq', 'replay', '--all'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/3 records selected; replayed 1, already queued 0, failed 0, skipped 2\./)
    expect(run.stdout).toMatch(
      new RegExp(`\\n  ${ids[1]}: the event is not a valid Segment event \\(messageId: `),
    )
    expect(run.stdout).toMatch(/ {2}junk-r0: data does not match the dead-letter record schema/)
    expect(await dlqIds()).toEqual([ids[1], 'junk-r0'].sort())
    // With a filter, a job that is not a record never matches (and is not counted).
    const filtered = await cli(['dlq', 'replay', '--reason', 'invalid', '--json'])
    expect(JSON.parse(filtered.stdout)).toMatchObject({ selected: 1, skipped: 1 })
  })

  it('paces to --rate and prints progress lines to stderr, then a summary', async () => {
    const records = Array.from({ length: 16 }, (_, i) => makeRecord({ n: i + 1 }))
    await seedDlq(dlq, records)
    const waits: number[] = []
    const sleep = async (ms: number) => {
      waits.push(ms)
      await new Promise(resolve => setTimeout(resolve, ms))
    }
    const run = await cli(['dlq', 'replay', '--all', '--rate', '40'], { sleep, progressIntervalMs: 100 })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'Replay done: 16 records selected; replayed 16, already queued 0, failed 0, skipped 0.\n',
    )
    const progress = run.stderr.trim().split('\n')
    expect(progress.length).toBeGreaterThanOrEqual(1)
    for (const line of progress) {
      expect(line).toMatch(
        /^replay: \d+\/16 \(replayed \d+, already queued 0, failed 0, skipped 0\), \d+\.\d\/s/,
      )
    }
    // One wait per record after the first, none longer than its slot (25 ms apart at 40/s).
    expect(waits.length).toBeGreaterThanOrEqual(10)
    expect(Math.max(...waits)).toBeLessThanOrEqual(25 * 15)
    expect(await dlqIds()).toEqual([])
  })

  it('stops between two records when aborted: every event is still in the DLQ or back in events', async () => {
    const records = Array.from({ length: 30 }, (_, i) => makeRecord({ n: i + 1 }))
    await seedDlq(dlq, records)
    const controller = new AbortController()
    let items = 0
    const sleep = async (ms: number, signal?: AbortSignal) => {
      items += 1
      if (items === 10) controller.abort()
      if (!signal?.aborted) await new Promise(resolve => setTimeout(resolve, Math.min(ms, 5)))
    }
    const run = await cli(['dlq', 'replay', '--all', '--rate', '10'], { sleep, signal: controller.signal })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/^Replay interrupted: 30 records selected; replayed \d+,/)
    expect(run.stdout).toMatch(
      /records? not reached are still in the DLQ; run the same command again to go on/,
    )
    const where = await locate(records)
    expect(where.lost).toEqual([])
    expect(where.inDlq).toBeGreaterThan(0)
    expect(where.inEvents).toBeGreaterThan(0)
    expect(where.inDlq + where.inEvents).toBe(30)

    const rest = await cli(['dlq', 'replay', '--all'])
    expect(rest.code).toBe(0)
    expect(await dlqIds()).toEqual([])
    expect((await locate(records)).inEvents).toBe(30)
  })

  it('a record re-dead-lettered after a replay replays again with the count raised once more', async () => {
    const first = makeRecord({ n: 1 })
    await seedDlq(dlq, [first])
    expect((await cli(['dlq', 'replay', '--all'])).code).toBe(0)
    // The worker fails it again: the events job goes, a new DLQ record with replays = 1 comes.
    const job = await eventsJob(first)
    expect(job!.data.replay?.count).toBe(1)
    await job!.remove()
    const again = { ...first, replays: job!.data.replay!.count }
    const [id] = await seedDlq(dlq, [again])
    expect(id).toBe(`${first.sourceJobId}-r1`)
    expect((await cli(['dlq', 'replay', id!])).code).toBe(0)
    expect((await eventsJob(first))!.data.replay?.count).toBe(2)
  })
})
