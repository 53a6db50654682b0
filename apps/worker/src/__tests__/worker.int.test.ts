import { describe, expect, it } from '@jest/globals'
import type { Job } from 'bullmq'
import { eventJobId, type EventJobData } from '@ucd/queue'
import { waitFor } from '@ucd/testing'
import { buildHealthServer } from '../index'
import { enqueue, group, identify, jobData, page, track, useWorkerSuite } from './helpers'

const suite = useWorkerSuite(__filename)

/** A worker on a fresh prefix, against the simulator. */
const startWorker = suite.startSimWorker

describe('delivery', () => {
  it('delivers identify, track, page and group to User.com', async () => {
    const w = startWorker()
    await enqueue(w.events, [
      identify('u1', { email: 'peter@example.com', firstName: 'Peter', plan: 'premium' }),
      track('u1', 1),
      page('u1'),
      group('u1', 'g-initech'),
    ])
    const state = await waitFor(
      async () => {
        const s = (await suite.sim.admin.state('acme')).apps.acme
        return s && s.events.length === 1 && s.pageViews.length === 1 && s.companies[0]?.members.length === 1
          ? s
          : undefined
      },
      { description: 'all four calls in the simulator' },
    )
    const user = state.users.find(u => u.custom_id === 'u1')
    expect(user).toMatchObject({ email: 'peter@example.com', first_name: 'Peter' })
    expect(state.events[0]).toMatchObject({ name: 'Order Completed', user_id: user?.id })
    expect(state.companies[0]).toMatchObject({ custom_id: 'g-initech', name: 'Initech' })
    expect(state.companies[0]?.members).toEqual([user?.id])
    await waitFor(async () => (await w.events.getJobCounts('completed', 'waiting', 'active')).active === 0)
    expect(await w.deadLetter.getWaitingCount()).toBe(0)
  })
})

describe('checkpoints', () => {
  it('a group retried after add_member failed creates no second company, and the checkpoints were stored in the job', async () => {
    const w = startWorker()
    const saved: Array<EventJobData['delivery']> = []
    w.worker.on('failed', (job: Job<EventJobData> | undefined) => saved.push(job?.data.delivery))
    await suite.sim.admin.failNext({ method: 'POST', route: '/companies/:id/add_member/', status: 503 })
    await enqueue(w.events, [group('u-cp', 'g-cp')])
    const company = await waitFor(async () => {
      const c = (await suite.sim.admin.state('acme')).apps.acme?.companies[0]
      return c && c.members.length === 1 ? c : undefined
    })
    expect(company.custom_id).toBe('g-cp')
    expect(await suite.sim.admin.requestCount('POST /companies/')).toBe(1)
    expect(await suite.sim.admin.requestCount('POST /companies/:id/add_member/')).toBe(2)
    expect(saved).toHaveLength(1)
    expect(Object.keys(saved[0]?.checkpoints ?? {})).toEqual(expect.arrayContaining(['user', 'company']))
    expect(saved[0]?.firstAttemptAt).toEqual(expect.any(Number))
  })
})

describe('checkpoints, changed', () => {
  it('a checkpoint whose value changed (user re-resolved after a 404) is stored before the retry', async () => {
    const w = startWorker()
    const saved: Array<EventJobData['delivery']> = []
    w.worker.on('failed', (job: Job<EventJobData> | undefined) => saved.push(job?.data.delivery))
    // The job already holds a user checkpoint from an earlier attempt: a user since deleted (404).
    await suite.sim.admin.failNext({ method: 'POST', route: '/events/', status: 404 })
    await suite.sim.admin.failNext({ method: 'POST', route: '/events/', status: 503 })
    const event = track('u-moved', 1)
    const data = {
      ...jobData(event),
      delivery: { firstAttemptAt: Date.now(), checkpoints: { user: { id: 4242 } } },
    }
    await w.events.add('track', data, { jobId: eventJobId('default', event.messageId) })
    await waitFor(async () => ((await suite.sim.admin.state('acme')).apps.acme?.events.length ?? 0) === 1)
    const user = (await suite.sim.admin.state('acme')).apps.acme?.users.find(u => u.custom_id === 'u-moved')
    expect(user?.id).not.toBe(4242)
    expect(saved).toHaveLength(1)
    // The 503 left POST /events/ in doubt: its marker is kept for the lookup on the retry.
    expect(saved[0]?.checkpoints).toEqual({
      user: { id: user?.id },
      'inDoubt:event': expect.objectContaining({ name: 'Order Completed' }),
    })
    expect(saved[0]?.failuresWithoutProgress).toBe(0)
  })
})

describe('operations', () => {
  it('serves /health/live, /health/ready and /metrics; not ready once closed', async () => {
    const w = startWorker()
    const health = buildHealthServer(w)
    await enqueue(w.events, [track('u-metrics', 1)])
    await waitFor(async () => ((await suite.sim.admin.state('acme')).apps.acme?.events.length ?? 0) === 1)
    expect((await health.inject({ url: '/health/live' })).statusCode).toBe(200)
    await waitFor(async () => (await health.inject({ url: '/health/ready' })).statusCode === 200)
    const metrics = (await health.inject({ url: '/metrics' })).body
    for (const name of [
      'ucd_worker_deliveries_total{type="track",outcome="delivered"} 1',
      'ucd_usercom_requests_total{endpoint="POST /events/",status="201"} 1',
      'ucd_usercom_request_duration_seconds_bucket',
      'ucd_delivery_lag_seconds_count 1',
      'ucd_queue_jobs{queue="events",state="waiting"} 0',
      'ucd_queue_jobs{queue="dead-letter",state="waiting"} 0',
      'ucd_worker_retries_total',
      'ucd_dlq_additions_total',
    ]) {
      expect(metrics).toContain(name)
    }
    await w.close(1000)
    expect((await health.inject({ url: '/health/ready' })).statusCode).toBe(503)
    await health.close()
  })
})
