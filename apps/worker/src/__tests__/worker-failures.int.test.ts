import { describe, expect, it } from '@jest/globals'
import {
  createRedisConnection,
  DeadLetterRecordSchema,
  eventJobId,
  waitUntilReady,
  type EventJobData,
} from '@ucd/queue'
import { testRedisUrl, waitFor } from '@ucd/testing'
import type { BuiltWorker } from '../index'
import { API_KEY, enqueue, jobData, track, useWorkerSuite } from './helpers'

const suite = useWorkerSuite(__filename)

/** A worker on a fresh prefix, against the simulator. */
const startWorker = suite.startSimWorker

const dlqRecords = async (w: BuiltWorker) => {
  const jobs = await w.deadLetter.getWaiting(0, 1000)
  return jobs.map(j => ({ id: j.id, name: j.name, record: DeadLetterRecordSchema.parse(j.data) }))
}

describe('the failure taxonomy, end to end', () => {
  it('403 → a complete dead-letter record, at once, without the API key', async () => {
    const w = startWorker()
    await suite.sim.admin.revoke(API_KEY)
    const event = track('u-403', 1)
    await enqueue(w.events, [event])
    const [dead] = await waitFor(async () => {
      const records = await dlqRecords(w)
      return records.length === 1 ? records : undefined
    })
    const { record } = dead!
    expect(dead!.name).toBe('forbidden')
    expect(dead!.id).toBe(`${eventJobId('default', event.messageId)}-r0`)
    expect(record).toMatchObject({
      tenantId: 'default',
      reason: 'forbidden',
      status: 403,
      error: { code: 'UC_ERR_FORBIDDEN' },
      attempts: 1,
      sourceJobId: eventJobId('default', event.messageId),
      replays: 0,
    })
    expect(record.event).toEqual(event)
    expect(record.response).toContain('detail')
    expect(Date.parse(record.deadAt)).toBeGreaterThanOrEqual(Date.parse(record.firstAttemptAt))
    expect(JSON.stringify(record)).not.toContain(API_KEY)
    expect(await w.events.getJobCounts('waiting', 'delayed', 'failed', 'active')).toEqual({
      waiting: 0,
      delayed: 0,
      failed: 0,
      active: 0,
    })
  })

  it('401 → dead-lettered as unauthorized', async () => {
    const w = startWorker({ USERCOM_API_KEY: 'uc_key_the_simulator_does_not_know_0000000000' })
    await enqueue(w.events, [track('u-401', 1)])
    const [dead] = await waitFor(async () => ((await dlqRecords(w)).length === 1 ? dlqRecords(w) : undefined))
    expect(dead!.record).toMatchObject({
      reason: 'unauthorized',
      status: 401,
      error: { code: 'UC_ERR_UNAUTHORIZED' },
    })
  })

  it('400 → dead-lettered as rejected, with the response body', async () => {
    const w = startWorker()
    await suite.sim.admin.failNext({ method: 'POST', route: '/events/', status: 400 })
    await enqueue(w.events, [track('u-400', 1)])
    const [dead] = await waitFor(async () => ((await dlqRecords(w)).length === 1 ? dlqRecords(w) : undefined))
    expect(dead!.record).toMatchObject({
      reason: 'rejected',
      status: 400,
      error: { code: 'UC_ERR_REJECTED' },
    })
    expect(dead!.record.response).toBeDefined()
  })

  it('a 5xx storm → every event delivered once the simulator recovers, none dead-lettered', async () => {
    await suite.sim.admin.setFaults({ errorRate: 1, errorStatus: 503 })
    const w = startWorker()
    await enqueue(
      w.events,
      Array.from({ length: 30 }, (_, n) => track(`u-storm-${n % 3}`, n)),
    )
    await waitFor(
      async () =>
        (await suite.sim.admin.requestCount('POST /users/update_or_create/', { status: 503 })) >= 10,
    )
    expect((await suite.sim.admin.state('acme')).apps.acme?.events ?? []).toHaveLength(0)
    await suite.sim.admin.setFaults({ errorRate: 0 })
    await waitFor(async () => ((await suite.sim.admin.state('acme')).apps.acme?.events.length ?? 0) === 30, {
      timeoutMs: 20_000,
      description: '30 events delivered after the storm',
    })
    expect(await w.deadLetter.getWaitingCount()).toBe(0)
    const retried = await w.metrics.registry.getSingleMetricAsString('ucd_worker_retries_total')
    expect(retried).toMatch(/kind="retryable",code="UC_ERR_SERVER"} [1-9]/)
  })

  it('a 429 storm with Retry-After → every event delivered, no attempt used', async () => {
    await suite.sim.admin.setFaults({ rateLimitRps: 20, rateLimitBurst: 4, retryAfterSeconds: 1 })
    const w = startWorker()
    // attempts: 1 — if a 429 cost an attempt, the job would fail for good instead of being delivered.
    await enqueue(
      w.events,
      Array.from({ length: 12 }, (_, n) => track(`u-429-${n}`, n)),
      'default',
      { attempts: 1 },
    )
    await waitFor(async () => ((await suite.sim.admin.state('acme')).apps.acme?.events.length ?? 0) === 12, {
      timeoutMs: 25_000,
      description: '12 events delivered through the rate limit',
    })
    expect(
      await suite.sim.admin.requestCount('POST /users/update_or_create/', { status: 429 }),
    ).toBeGreaterThan(0)
    expect(await w.events.getFailedCount()).toBe(0)
    expect(await w.deadLetter.getWaitingCount()).toBe(0)
  })

  it('a spent retry window → dead-lettered as exhausted after several attempts', async () => {
    await suite.sim.admin.setFaults({ errorRate: 1, errorStatus: 502 })
    const w = startWorker({
      RETRY_WINDOW_MINUTES: '0.01',
      RETRY_BASE_DELAY_MS: '20',
      RETRY_MAX_DELAY_MS: '100',
    })
    await enqueue(w.events, [track('u-exhausted', 1)])
    const [dead] = await waitFor(
      async () => ((await dlqRecords(w)).length === 1 ? dlqRecords(w) : undefined),
      {
        timeoutMs: 10_000,
      },
    )
    expect(dead!.record).toMatchObject({ reason: 'exhausted', status: 502, error: { code: 'UC_ERR_SERVER' } })
    expect(dead!.record.attempts).toBeGreaterThan(1)
    expect(Date.parse(dead!.record.deadAt) - Date.parse(dead!.record.firstAttemptAt)).toBeGreaterThanOrEqual(
      600,
    )
  })

  it('job data that is not an event → dead-lettered as invalid; an unknown tenant likewise', async () => {
    const w = startWorker()
    const good = jobData(track('u-x', 1))
    await w.events.add(
      'track',
      { ...good, event: { ...good.event, type: 'nonsense' } } as unknown as EventJobData,
      {
        jobId: 'bad-1',
      },
    )
    await w.events.add('track', { ...good, tenantId: 'nobody' }, { jobId: 'bad-2' })
    const records = await waitFor(async () => {
      const r = await dlqRecords(w)
      return r.length === 2 ? r : undefined
    })
    const byId = Object.fromEntries(records.map(r => [r.record.sourceJobId, r.record]))
    expect(byId['bad-1']).toMatchObject({ reason: 'invalid', error: { code: 'UCD_ERR_INVALID_JOB' } })
    expect(byId['bad-2']).toMatchObject({
      reason: 'invalid',
      tenantId: 'nobody',
      error: { code: 'UCD_ERR_UNKNOWN_TENANT' },
    })
  })

  it('job data whose times are unreadable → dead-lettered as invalid at once, the event kept', async () => {
    const w = startWorker()
    const good = jobData(track('u-times', 1))
    const notIso = { ...good, receivedAt: '2026-01-01 10:00' }
    const badFirst = { ...good, delivery: { firstAttemptAt: 'yesterday', checkpoints: {} } }
    const notAnEvent = { ...good, event: 'oops', replay: { count: 'x', at: 'then' } }
    await w.events.add('track', notIso, { jobId: 'times-1' })
    await w.events.add('track', badFirst as unknown as EventJobData, { jobId: 'times-2' })
    await w.events.add('track', notAnEvent as unknown as EventJobData, { jobId: 'times-3' })
    const records = await waitFor(async () => {
      const r = await dlqRecords(w)
      return r.length === 3 ? r : undefined
    })
    const byId = Object.fromEntries(records.map(r => [r.record.sourceJobId, r.record]))
    for (const id of ['times-1', 'times-2', 'times-3']) {
      expect(byId[id]).toMatchObject({ reason: 'invalid', error: { code: 'UCD_ERR_INVALID_JOB' } })
    }
    expect(byId['times-1']?.event).toEqual(good.event)
    expect(byId['times-1']?.receivedAt).toBeUndefined()
    expect(byId['times-2']?.event).toEqual(good.event)
    expect(byId['times-2']?.receivedAt).toBe(good.receivedAt)
    expect(byId['times-3']?.event).toEqual({ original: 'oops' })
    expect(byId['times-3']?.replays).toBe(0)
    expect(await w.events.getJobCounts('waiting', 'delayed', 'failed', 'active')).toEqual({
      waiting: 0,
      delayed: 0,
      failed: 0,
      active: 0,
    })
  })

  it('the sweep moves a failed job with invalid data as invalid, and the failed jobs after it too', async () => {
    const w = startWorker({}, 3_600_000, false)
    const good = jobData(track('u-swept', 1))
    await w.events.add('track', good, { jobId: 'sweep-a-good', attempts: 1 })
    await w.events.add(
      'track',
      { ...good, receivedAt: '2026-01-01 10:00' },
      { jobId: 'sweep-z-poison', attempts: 1 },
    )
    // Fail both as BullMQ does on its own (e.g. too many starts), the poisoned one last: it is swept first.
    for (const id of ['sweep-a-good', 'sweep-z-poison']) {
      const job = await w.worker.getNextJob('test-token', { block: false })
      expect(job?.id).toBe(id)
      await job?.moveToFailed(new Error('job started more than allowable limit'), 'test-token')
    }
    expect((await w.events.getFailed(0, 99)).map(j => j.id)).toEqual(['sweep-z-poison', 'sweep-a-good'])
    expect(await w.sweepFailed()).toBe(2)
    const byId = Object.fromEntries((await dlqRecords(w)).map(r => [r.record.sourceJobId, r.record]))
    expect(byId['sweep-z-poison']).toMatchObject({
      reason: 'invalid',
      error: { code: 'UCD_ERR_INVALID_JOB' },
    })
    expect(byId['sweep-z-poison']?.event).toEqual(good.event)
    expect(byId['sweep-a-good']).toMatchObject({ reason: 'exhausted', error: { code: 'UCD_ERR_JOB_FAILED' } })
    expect(await w.events.getFailedCount()).toBe(0)
  })

  it('one sweeper at a time across processes: a held lock skips the sweep, concurrent sweeps move a job once', async () => {
    const w = startWorker({}, 3_600_000, false)
    await w.events.add('track', jobData(track('u-lock', 1)), { jobId: 'lock-1', attempts: 1 })
    const job = await w.worker.getNextJob('test-token', { block: false })
    await job?.moveToFailed(new Error('job stalled more than allowable limit'), 'test-token')
    const redis = createRedisConnection(testRedisUrl(), 'producer')
    await waitUntilReady(redis)
    try {
      const lockKey = `${suite.prefix}:sweep-lock`
      // Another process is sweeping: this one leaves the job alone.
      await redis.set(lockKey, 'another-process', 'PX', 10_000)
      expect(await w.sweepFailed()).toBe(0)
      expect(await w.events.getFailedCount()).toBe(1)
      expect(await redis.get(lockKey)).toBe('another-process')
      await redis.del(lockKey)
      // Two sweeps at once (as two processes would): one moves the job, the other finds the lock taken.
      const moved = await Promise.all([w.sweepFailed(), w.sweepFailed()])
      expect(moved.sort()).toEqual([0, 1])
      expect((await dlqRecords(w)).map(r => r.record.sourceJobId)).toEqual(['lock-1'])
      expect(await w.events.getFailedCount()).toBe(0)
      expect(await redis.exists(lockKey)).toBe(0)
    } finally {
      await redis.quit()
    }
  })

  it('bounds started attempts: a job paused by 429s forever ends in the DLQ, not in a loop', async () => {
    await suite.sim.admin.setFaults({ rateLimitRps: 0.001, rateLimitBurst: 1, retryAfterSeconds: 0 })
    const w = startWorker({ WORKER_MAX_STARTED_ATTEMPTS: '3' }, 200)
    await enqueue(w.events, [track('u-loop-a', 1), track('u-loop-b', 2)])
    const records = await waitFor(
      async () => {
        const r = await dlqRecords(w)
        return r.length === 2 ? r : undefined
      },
      { timeoutMs: 20_000, description: 'both looping jobs dead-lettered' },
    )
    for (const { record } of records)
      expect(record).toMatchObject({ reason: 'exhausted', error: { code: 'UCD_ERR_JOB_FAILED' } })
    expect(await w.events.getFailedCount()).toBe(0)
  })
})
