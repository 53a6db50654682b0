import { loadConfig, type Config } from '@ucd/config'
import { createLogger, type Logger } from '@ucd/logger'
import { eventJobId, EventJobDataSchema, type EventJobData, type EventsQueue } from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { testEvent } from '@ucd/segment/testing'
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
