import { afterAll, afterEach, describe, expect, it } from '@jest/globals'
import { DeliveryDeferredError } from '@ucd/delivery'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { buildWorker, type BuiltWorker } from '../index'
import type { DeliveryPort } from '../port'
import { enqueue, quietLogger, testConfig, track } from './helpers'

// A delivery that asks to wait (a user's lock is taken, the tenant is paused) is put back in the
// delayed set for that long, without spending an attempt, and runs again with its checkpoints.

const prefix = uniquePrefix(__filename)
let built: BuiltWorker | undefined

afterEach(async () => {
  await built?.close(2000)
  built = undefined
})
afterAll(async () => {
  await cleanupPrefix(testRedisUrl(), prefix)
})

describe('a deferred delivery', () => {
  it('waits the asked delay, keeps its checkpoints and spends no attempt', async () => {
    const calls: { at: number; checkpoints: Readonly<Record<string, unknown>> }[] = []
    const port: DeliveryPort = {
      async deliver(_event, { checkpoints, onStep }) {
        calls.push({ at: Date.now(), checkpoints: { ...checkpoints } })
        if (calls.length <= 2) {
          onStep(`step-${calls.length}`, { n: calls.length })
          throw new DeliveryDeferredError('user_locked', 300, 'the user is locked by another delivery')
        }
        return { dropped: [] }
      },
    }
    const config = testConfig(testRedisUrl(), prefix, 'http://127.0.0.1:9/')
    built = buildWorker({ config, logger: quietLogger(), deliveryFor: () => port })
    const completed: { attemptsMade: number; attemptsStarted: number }[] = []
    built.worker.on('completed', job =>
      completed.push({ attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted }),
    )
    await enqueue(built.events, [track('deferred-user', 1)])

    await waitFor(() => completed.length === 1, { description: 'the job completed', timeoutMs: 15_000 })
    expect(calls).toHaveLength(3)
    // Each run came back no sooner than the delay it asked for.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(290)
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(290)
    // The checkpoints saved before each deferral were there on the next run.
    expect(calls[1]!.checkpoints).toEqual({ 'step-1': { n: 1 } })
    expect(calls[2]!.checkpoints).toEqual({ 'step-1': { n: 1 }, 'step-2': { n: 2 } })
    // Started three times, but only the run that completed counts as an attempt (BullMQ counts the
    // completing run too): the two deferrals spent none.
    expect(completed[0]).toEqual({ attemptsMade: 1, attemptsStarted: 3 })
    const metrics = await built.metrics.registry.getSingleMetricAsString('ucd_worker_deferrals_total')
    expect(metrics).toContain('ucd_worker_deferrals_total{why="user_locked",tenant="default"} 2')
  })
})
