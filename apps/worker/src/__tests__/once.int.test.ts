import { describe, expect, it } from '@jest/globals'
import { eventJobId } from '@ucd/queue'
import { testRedisUrl, waitFor } from '@ucd/testing'
import { buildWorker, usercomDelivery, type BuiltWorker } from '../index'
import { enqueue, identify, jobData, quietLogger, testConfig, track, useWorkerSuite } from './helpers'

// Backoff that rewards progress and in-doubt occurrences, through a real worker, Redis and the
// simulator. The base delay is long (60 s) and the jitter pinned to its top, so a retried job sits in
// the delayed set with the delay the strategy chose; the test reads it, then promotes the job.

const BASE = 60_000
const suite = useWorkerSuite(__filename)

function startWorker(): BuiltWorker {
  return suite.start(prefix => {
    const config = testConfig(testRedisUrl(), prefix, suite.sim.baseUrl, {
      RETRY_BASE_DELAY_MS: String(BASE),
      RETRY_MAX_DELAY_MS: String(64 * BASE),
    })
    return buildWorker({
      config,
      logger: quietLogger(),
      deliveryFor: usercomDelivery,
      random: () => 0.999999,
    })
  })
}

/** The job once it waits in the delayed set after a failed attempt. */
async function delayedJob(w: BuiltWorker, id: string) {
  return waitFor(
    async () => {
      const job = await w.events.getJob(id)
      return job && (await job.isDelayed()) ? job : undefined
    },
    { description: `job ${id} delayed for a retry` },
  )
}

const metric = async (w: BuiltWorker, name: string) =>
  (await w.metrics.registry.getSingleMetricAsString(name)).split('\n').filter(l => !l.startsWith('#'))

describe('backoff that rewards progress', () => {
  it('an attempt that saved a new checkpoint retries after the base delay', async () => {
    const w = startWorker()
    // Three new attributes are created (checkpoints), then the upsert fails.
    await suite.sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 503 })
    const event = identify('u1', { plan: 'pro', seats: 'ten', tier: 'gold' })
    await enqueue(w.events, [event])
    const job = await delayedJob(w, eventJobId('default', event.messageId))
    const delivery = job.data.delivery
    expect(delivery?.failuresWithoutProgress).toBe(0)
    expect(Object.keys(delivery?.checkpoints ?? {}).filter(k => k.startsWith('attribute:'))).toHaveLength(3)
    expect(job.delay).toBe(Math.floor(0.999999 * BASE))
    await job.promote()
    await waitFor(async () => (await suite.sim.admin.state('acme')).apps.acme?.users.length === 1, {
      description: 'the user upserted on the retry',
    })
  })

  it('consecutive attempts without progress grow the delay from the count kept in the job', async () => {
    const w = startWorker()
    await suite.sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status: 503 })
    const event = track('u2', 1)
    const data = jobData(event)
    await w.events.add(
      'track',
      { ...data, delivery: { failuresWithoutProgress: 3 } },
      {
        jobId: eventJobId('default', event.messageId),
      },
    )
    const job = await delayedJob(w, eventJobId('default', event.messageId))
    expect(job.data.delivery?.failuresWithoutProgress).toBe(4)
    // Ceiling base · 2^(4-1).
    expect(job.delay).toBe(Math.floor(0.999999 * 8 * BASE))
  })
})

describe('in-doubt event occurrences', () => {
  it('a lost answer on POST /events/: the retry finds the occurrence, counts it, and sends nothing again', async () => {
    const w = startWorker()
    await suite.sim.admin.failNext({ method: 'POST', route: '/events/', status: 504, afterApply: true })
    const event = track('u3', 7)
    await enqueue(w.events, [event])
    const id = eventJobId('default', event.messageId)
    const job = await delayedJob(w, id)
    expect(job.data.delivery?.checkpoints?.['inDoubt:event']).toMatchObject({
      name: 'Order Completed',
    })
    await job.promote()
    await waitFor(
      async () => {
        const again = await w.events.getJob(id)
        return again === undefined || (await again.isCompleted())
      },
      { description: 'the job done' },
    )
    const { events, duplicates } = await suite.sim.admin.events('acme', 'u3')
    expect(events).toHaveLength(1)
    expect(duplicates).toEqual([])
    expect(await suite.sim.admin.requestCount('POST /events/', { app: 'acme' })).toBe(1)
    expect(await metric(w, 'ucd_worker_in_doubt_steps_total')).toContain(
      'ucd_worker_in_doubt_steps_total{outcome="found",tenant="default"} 1',
    )
  })
})
