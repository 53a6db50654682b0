import { afterAll, afterEach, beforeAll } from '@jest/globals'
import { loadConfig, type Config } from '@ucd/config'
import { createLogger, type Logger } from '@ucd/logger'
import { eventJobId, EventJobDataSchema, type EventJobData, type EventsQueue } from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { testEvent } from '@ucd/segment/testing'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { buildWorker, usercomDelivery, type BuiltWorker } from '../index'

export const API_KEY = 'uc_test_key_0123456789abcdef0123456789abcdef0123456789abcdef01234567'

/** Worker settings for tests: fast retries, short locks, quiet logs. `env` wins. */
export function testEnv(redisUrl: string, prefix: string, baseUrl: string, env: Record<string, string> = {}) {
  return {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    USERCOM_API_KEY: API_KEY,
    USERCOM_BASE_URL: baseUrl,
    WORKER_CONCURRENCY: '20',
    RETRY_BASE_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '400',
    USERCOM_TIMEOUT_MS: '2000',
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '2000',
    WORKER_DRAIN_TIMEOUT_MS: '5000',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  }
}

export function testConfig(
  redisUrl: string,
  prefix: string,
  baseUrl: string,
  env: Record<string, string> = {},
): Config {
  return loadConfig(testEnv(redisUrl, prefix, baseUrl, env), { app: 'worker' })
}

export const quietLogger = (): Logger => createLogger({ service: 'worker-test', level: 'silent' })

const at = '2026-11-28T10:00:00.000Z'
const envelope = (userId: string) => ({ userId, timestamp: at, receivedAt: at })

export const track = (userId: string, n: number): SegmentEvent =>
  testEvent('track', { ...envelope(userId), event: 'Order Completed', properties: { n, revenue: 12.5 } })
export const identify = (userId: string, traits: Record<string, unknown>): SegmentEvent =>
  testEvent('identify', { ...envelope(userId), traits })
export const page = (userId: string): SegmentEvent =>
  testEvent('page', {
    ...envelope(userId),
    name: 'Home',
    properties: { url: 'https://shop.example.com/home?x=1', title: 'Home', referrer: 'https://google.com/' },
  })
export const group = (userId: string, groupId: string): SegmentEvent =>
  testEvent('group', {
    ...envelope(userId),
    groupId,
    traits: { name: 'Initech', employees: 42, industry: 'Technology' },
  })

export function jobData(event: SegmentEvent, tenantId = 'default'): EventJobData {
  return EventJobDataSchema.parse({ tenantId, event, receivedAt: new Date().toISOString() })
}

/** Adds events as the ingest does: one addBulk, deterministic job ids. */
export async function enqueue(
  queue: EventsQueue,
  events: readonly SegmentEvent[],
  tenantId = 'default',
  opts: { attempts?: number } = {},
): Promise<void> {
  await queue.addBulk(
    events.map(event => ({
      name: event.type,
      data: jobData(event, tenantId),
      opts: { jobId: eventJobId(tenantId, event.messageId), ...opts },
    })),
  )
}

/** A worker on `prefix`, against the simulator at `baseUrl`: what `startWorker` in the worker tests builds. */
export function buildSimWorker(
  redisUrl: string,
  prefix: string,
  baseUrl: string,
  env: Record<string, string> = {},
  sweepIntervalMs?: number,
  autorun = true,
): BuiltWorker {
  const config = testConfig(redisUrl, prefix, baseUrl, env)
  return buildWorker({
    config,
    logger: quietLogger(),
    deliveryFor: usercomDelivery,
    sweepIntervalMs,
    autorun,
  })
}

/** What an in-process worker test file runs against: the simulator, and one worker per test. */
export interface WorkerSuite {
  /** The file's simulator (started in `beforeAll`, reset after each test). */
  readonly sim: RunningSimulator
  /** The queue prefix of the latest worker started. */
  readonly prefix: string
  /** Builds the test's worker on a fresh queue prefix (removed after the file); closed after the test. */
  start(build: (prefix: string) => BuiltWorker): BuiltWorker
  /** `start` with `buildSimWorker` against the simulator. */
  startSimWorker(env?: Record<string, string>, sweepIntervalMs?: number, autorun?: boolean): BuiltWorker
}

/** Registers the file's hooks (call it at the top level of a test file, with `__filename`). */
export function useWorkerSuite(filename: string): WorkerSuite {
  const filePrefix = uniquePrefix(filename)
  const prefixes: string[] = []
  let sim: RunningSimulator | undefined
  let built: BuiltWorker | undefined
  const started = (): RunningSimulator => {
    if (sim === undefined) throw new Error('the simulator starts in beforeAll')
    return sim
  }
  beforeAll(async () => {
    sim = await startSimulator({ keys: [{ key: API_KEY, app: 'acme' }] })
  })
  afterEach(async () => {
    await built?.close(2000)
    built = undefined
    await started().admin.reset()
  })
  afterAll(async () => {
    await sim?.close()
    for (const prefix of prefixes) await cleanupPrefix(testRedisUrl(), prefix)
  })
  const start = (build: (prefix: string) => BuiltWorker): BuiltWorker => {
    const prefix = `${filePrefix}-${prefixes.length + 1}`
    prefixes.push(prefix)
    built = build(prefix)
    return built
  }
  return {
    get sim() {
      return started()
    },
    get prefix() {
      return prefixes.at(-1) ?? ''
    },
    start,
    startSimWorker: (env = {}, sweepIntervalMs, autorun = true) =>
      start(prefix =>
        buildSimWorker(testRedisUrl(), prefix, started().baseUrl, env, sweepIntervalMs, autorun),
      ),
  }
}
