import { normalizeEvent, type SegmentEvent } from '@ucd/segment'
import { cleanupPrefix, testRedisUrl } from '@ucd/testing'
import { createUsercomClient, type UsercomClient } from '@ucd/usercom-client'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { Redis } from 'ioredis'
import { createExecutor, type Checkpoints, type ExecutorOptions } from '../executor'

export const KEY = 'executor-test-key-0123456789abcdef0123456789abcdef0123456789abcd'

/** What a delivery test file runs against: the test Redis, a simulator app `acme` for `key`, a client. */
export interface Testbed {
  redis: Redis
  sim: RunningSimulator
  client: UsercomClient
}

/** Opens a file's testbed (in `beforeAll`). */
export async function openTestbed(key: string, maxSockets?: number): Promise<Testbed> {
  const redis = new Redis(testRedisUrl())
  const sim = await startSimulator({ keys: [{ key, app: 'acme', revoked: false }] })
  const client = createUsercomClient({
    baseUrl: sim.baseUrl,
    apiKey: key,
    timeoutMs: 5000,
    ...(maxSockets === undefined ? {} : { maxSockets }),
  })
  return { redis, sim, client }
}

/** Closes a file's testbed and removes its keys (in `afterAll`). */
export async function closeTestbed(testbed: Testbed, prefix: string): Promise<void> {
  testbed.client.close()
  await testbed.sim.close()
  await testbed.redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
}

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
