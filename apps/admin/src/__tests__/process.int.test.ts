import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createEventsQueue, eventJobId, type DeadLetterQueue, type EventsQueue } from '@ucd/queue'
import { cleanupPrefix, freePort, spawnApp, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import type { Redis } from 'ioredis'
import { connect, dlqId, makeRecord, openDlq, seedDlq } from './helpers'

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js')
const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let redis: Redis
let dlq: DeadLetterQueue
let events: EventsQueue

/** Runs `node dist/main.js <args>` to its exit. */
async function admin(args: string[], env: Record<string, string | undefined> = {}) {
  const app = await spawnApp({
    args: [MAIN, ...args],
    env: { REDIS_URL: url, QUEUE_PREFIX: prefix, TENANTS_FILE: undefined, LOG_LEVEL: undefined, ...env },
  })
  return app.exited()
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

describe('the built CLI (dist/main.js)', () => {
  it.each([
    [[]],
    [['stats']],
    [['dlq']],
    [['dlq', 'list']],
    [['dlq', 'show']],
    [['dlq', 'replay']],
    [['dlq', 'purge']],
    [['dlq', 'export']],
    [['dlq', 'import']],
  ])('%j --help prints usage and examples, exit 0', async command => {
    const result = await admin([...command, '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: pnpm admin/)
    expect(result.stdout).toMatch(/\nExamples:\n {2}\$ pnpm admin /)
    expect(result.stderr).toBe('')
  })

  it('exits 0 on success', async () => {
    await seedDlq(dlq, [makeRecord({ n: 1 })])
    const result = await admin(['dlq', 'list'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(dlqId(makeRecord({ n: 1 })))
    const stats = await admin(['stats', '--json'])
    expect(stats.code).toBe(0)
    expect(JSON.parse(stats.stdout).deadLetter.total).toBe(1)
  })

  it.each([
    [[], /Usage: pnpm admin/],
    [['dlq', 'list', '--reason', 'nope'], /--reason: unknown "nope"/],
    [['dlq', 'list', '--bogus'], /unknown option '--bogus'/],
    [['dlq', 'replay'], /say which records to replay/],
    [['dlq', 'purge', '--all'], /add --yes to confirm/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j is a usage error: exit 2', async (args, message) => {
    const result = await admin(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
  })

  it('exits 1 on an unknown id', async () => {
    const result = await admin(['dlq', 'show', 'acme-nope-r0'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/No dead-letter record has the id "acme-nope-r0"/)
  })

  it('exits 1 with a clear message (URL without its password, how to fix) when Redis is unreachable', async () => {
    const port = await freePort()
    const result = await admin(['stats'], { REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}` })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      `Cannot reach Redis at redis://:***@127.0.0.1:${port} (REDIS_URL) within 3 s`,
    )
    expect(result.stderr).toMatch(/ECONNREFUSED/)
    expect(result.stderr).toMatch(/Check that Redis is running .* REDIS_URL points at it/)
    expect(result.stderr).not.toContain('s3cret-pw')
    expect(result.stdout).toBe('')
  })

  it('exits 1 naming the variable on an invalid configuration', async () => {
    const result = await admin(['stats'], { LOG_LEVEL: 'loud' })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/Invalid configuration .*\n {2}- LOG_LEVEL: /)
  })

  it('Ctrl-C (SIGINT) stops a replay between two records and prints the summary', async () => {
    const records = Array.from({ length: 40 }, (_, i) => makeRecord({ n: i + 1 }))
    await seedDlq(dlq, records)
    const app = await spawnApp({
      args: [MAIN, 'dlq', 'replay', '--all', '--rate', '20'],
      env: { REDIS_URL: url, QUEUE_PREFIX: prefix, TENANTS_FILE: undefined },
    })
    await waitFor(async () => (await dlq.getWaitingCount()) <= 35, { description: '5 records replayed' })
    const result = await app.stop('SIGINT')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/SIGINT: stopping after the current record/)
    expect(result.stdout).toMatch(
      /^Replay interrupted: 40 records selected; replayed (\d+), already queued 0/,
    )
    const replayed = Number(/replayed (\d+)/.exec(result.stdout)?.[1])
    expect(await dlq.getWaitingCount()).toBe(40 - replayed)
    expect(await events.getWaitingCount()).toBe(replayed)
  })

  it('a replay killed halfway (SIGKILL) loses no event: each is still in the DLQ or back in events', async () => {
    const records = Array.from({ length: 60 }, (_, i) =>
      makeRecord({ n: i + 1, tenantId: i % 2 ? 'acme' : 'globex' }),
    )
    await seedDlq(dlq, records)
    const app = await spawnApp({
      args: [MAIN, 'dlq', 'replay', '--all', '--rate', '25'],
      env: { REDIS_URL: url, QUEUE_PREFIX: prefix, TENANTS_FILE: undefined },
    })
    // Halfway: a progress line printed (after 1 s) and at least 25 records done.
    const progress = /replay: \d+\/60 \(replayed \d+/
    await waitFor(async () => progress.test(app.stderr()) && (await dlq.getWaitingCount()) <= 35, {
      description: 'the replay to print progress and get through 25 records',
      timeoutMs: 20_000,
      intervalMs: 20,
    })
    const killed = await app.kill()
    expect(killed.signal).toBe('SIGKILL')
    expect(killed.stderr).toMatch(progress)

    let inDlq = 0
    let inEvents = 0
    const lost: string[] = []
    for (const record of records) {
      const dead = (await redis.exists(dlq.toKey(dlqId(record)))) === 1
      const job = await events.getJob(eventJobId(record.tenantId, record.event.messageId as string))
      if (dead) inDlq += 1
      if (job) {
        inEvents += 1
        expect(job.data.event.messageId).toBe(record.event.messageId)
        expect(job.data.replay?.count).toBe(1)
      }
      if (!dead && !job) lost.push(dlqId(record))
    }
    expect(lost).toEqual([])
    expect(inDlq).toBeGreaterThan(0)
    expect(inEvents).toBeGreaterThanOrEqual(25)
    expect(inDlq + inEvents).toBeGreaterThanOrEqual(60)

    // Running it again finishes the job: what is in both counts as already queued.
    const rest = await admin(['dlq', 'replay', '--all', '--json'])
    expect(rest.code).toBe(0)
    const summary = JSON.parse(rest.stdout)
    expect(summary.replayed + summary.alreadyQueued).toBe(inDlq)
    expect(summary.alreadyQueued).toBe(inDlq + inEvents - 60)
    expect(await dlq.getWaitingCount()).toBe(0)
    expect(await events.getWaitingCount()).toBe(60)
  })
})
