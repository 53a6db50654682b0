import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import type { RunningSimulator } from '@ucd/usercom-sim'
import type { UsercomClient } from '@ucd/usercom-client'
import type { Redis } from 'ioredis'
import { createExecutor, type Checkpoints, type ExecutorOptions } from '../executor'

export const KEY = 'executor-test-key-0123456789abcdef0123456789abcdef0123456789abcd'

/** An executor for `tenantId` with the test TTLs; `options` win. */
export const testExecutor = (
  deps: { tenantId: string; client: UsercomClient; redis: Redis; keyPrefix: string },
  options: Partial<ExecutorOptions> = {},
) =>
  createExecutor({
    ...deps,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
    ...options,
  })

let messages = 0
export function event(raw: Record<string, unknown>): SegmentEvent {
  messages += 1
  const result = normalizeEvent(
    { messageId: `msg-${messages}`, timestamp: '2024-05-01T10:00:00.000Z', ...raw },
    { receivedAt: new Date('2024-05-01T10:00:01.000Z') },
  )
  if (!result.ok) throw new Error(`bad test event: ${JSON.stringify(result.errors)}`)
  return result.event
}
export const identify = (
  userId: string,
  traits: Record<string, unknown>,
  context: Record<string, unknown> = {},
) => event({ type: 'identify', userId, traits, context })
export const track = (userId: string, name: string, properties: Record<string, unknown> = {}) =>
  event({ type: 'track', userId, event: name, properties })
export const page = (userId: string, url: string) =>
  event({ type: 'page', userId, name: 'Pricing', properties: { url, title: 'Pricing' } })
export const group = (userId: string, groupId: string, traits: Record<string, unknown> = {}) =>
  event({ type: 'group', userId, groupId, traits })

/** The simulator's state of app acme. */
export const appState = async (sim: RunningSimulator) => {
  const s = await sim.admin.state('acme')
  const app = s.apps.acme
  if (!app) throw new Error('no app state')
  return app
}
/** Requests app acme made to `endpoint` (with `status`, if given). */
export const requestCount = (sim: RunningSimulator, endpoint: string, status?: number) =>
  sim.admin.requestCount(endpoint, { app: 'acme', ...(status === undefined ? {} : { status }) })
/** Every request app acme made. */
export const totalRequestsOf = async (sim: RunningSimulator) =>
  Object.values((await appState(sim)).requests).reduce(
    (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0),
    0,
  )

/** Delivers, collecting checkpoints through onStep; returns them and the error, if any. */
export async function attempt(
  run: ReturnType<typeof createExecutor>,
  e: SegmentEvent,
  checkpoints: Checkpoints = {},
): Promise<{ checkpoints: Checkpoints; error?: unknown }> {
  const collected: Checkpoints = { ...checkpoints }
  try {
    await run.deliver(e, { checkpoints, onStep: (key, result) => void (collected[key] = result) })
    return { checkpoints: collected }
  } catch (error) {
    return { checkpoints: collected, error }
  }
}
