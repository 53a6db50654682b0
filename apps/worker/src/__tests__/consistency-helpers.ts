import { join } from 'node:path'
import { createEventsQueue, createRedisConnection, waitUntilReady, type EventsQueue } from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { testEvent } from '@ucd/segment/testing'
import { cleanupPrefix, freePort, spawnApp, testRedisUrl, waitFor, type AppProcess } from '@ucd/testing'
import type { RunningSimulator, SimAppState } from '@ucd/usercom-sim'
import type { Redis } from 'ioredis'
import { testEnv } from './helpers'

// Per-user consistency tests with separate worker processes (the built dist/main.js): a harness that
// starts them, feeds the queue and waits for it to drain. Every test file owns one Harness.

const main = join(__dirname, '../../dist/main.js')

/** Events after this are in the past of every test's receivedAt (no clamping to receivedAt). */
export const RECEIVED_AT = new Date('2026-11-28T12:00:00.000Z')
/** `k` minutes after 10:00 (k < 120), as an ISO timestamp. */
export const minute = (k: number): string =>
  new Date(Date.parse('2026-11-28T10:00:00.000Z') + k * 60_000).toISOString()

export const identifyAt = (userId: string, at: string, traits: Record<string, unknown>): SegmentEvent =>
  testEvent('identify', { userId, timestamp: at, traits }, { receivedAt: RECEIVED_AT })
export const groupAt = (
  userId: string,
  groupId: string,
  at: string,
  traits: Record<string, unknown>,
): SegmentEvent => testEvent('group', { userId, groupId, timestamp: at, traits }, { receivedAt: RECEIVED_AT })
export const trackAt = (userId: string, at: string, n: number): SegmentEvent =>
  testEvent(
    'track',
    { userId, timestamp: at, event: 'Clicked', properties: { n } },
    { receivedAt: RECEIVED_AT },
  )
export const pageAt = (userId: string, at: string, n: number): SegmentEvent =>
  testEvent(
    'page',
    {
      userId,
      timestamp: at,
      name: 'Home',
      properties: { url: `https://shop.example.com/p/${n}`, title: `P${n}` },
    },
    { receivedAt: RECEIVED_AT },
  )

/** Fisher-Yates with a seeded generator: the "random" order is the same on every run. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let state = seed >>> 0
  const next = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

export class Harness {
  readonly running: AppProcess[] = []
  private readonly closers: Array<() => Promise<unknown>> = []
  private readonly prefixes: string[] = []
  private testNo = 0

  constructor(
    private readonly filePrefix: string,
    private readonly sim: () => RunningSimulator,
  ) {}

  async setup(): Promise<{ prefix: string; queue: EventsQueue; redis: Redis }> {
    const prefix = `${this.filePrefix}-${++this.testNo}`
    this.prefixes.push(prefix)
    const redis: Redis = createRedisConnection(testRedisUrl(), 'worker')
    await waitUntilReady(redis)
    const queue = createEventsQueue(redis, prefix)
    this.closers.push(
      () => redis.quit().catch(() => redis.disconnect()),
      () => queue.close(),
    )
    return { prefix, queue, redis }
  }

  async startWorker(prefix: string, env: Record<string, string> = {}): Promise<{ metricsUrl: string }> {
    const port = await freePort()
    const proc = await spawnApp({
      args: [main],
      env: testEnv(testRedisUrl(), prefix, this.sim().baseUrl, {
        METRICS_PORT: String(port),
        LOG_LEVEL: 'warn',
        ...env,
      }),
      readyUrl: `http://127.0.0.1:${port}/health/ready`,
      // The machine may be loaded: readiness is not what is tested here.
      readyTimeoutMs: 120_000,
    })
    this.running.push(proc)
    return { metricsUrl: `http://127.0.0.1:${port}/metrics` }
  }

  /** Stops the processes and closes the connections of the test that ended. */
  async afterEach(): Promise<void> {
    for (const proc of this.running.splice(0)) await proc.stop('SIGKILL')
    for (const close of this.closers.splice(0).reverse()) await close()
  }

  /** `count` workers, started one after the other (a loaded machine starts them faster so). */
  async startWorkers(prefix: string, count: number, env: Record<string, string> = {}) {
    const out: Array<{ metricsUrl: string }> = []
    for (let i = 0; i < count; i += 1) out.push(await this.startWorker(prefix, env))
    return out
  }

  async afterAll(): Promise<void> {
    for (const prefix of this.prefixes) await cleanupPrefix(testRedisUrl(), prefix)
  }
}

/** Waits until no job is waiting, active or delayed (retries and deferrals included). */
export async function drained(queue: EventsQueue, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
      return Object.values(counts).every(n => n === 0)
    },
    { timeoutMs, intervalMs: 500, description: 'the events queue drained' },
  )
}

export async function appState(sim: RunningSimulator): Promise<SimAppState> {
  const app = (await sim.admin.state('acme')).apps.acme
  if (!app) throw new Error('no app state')
  return app
}

/** A counter's value summed over the workers' /metrics, for the series matching `labels`. */
export async function counter(metricsUrls: readonly string[], name: string, labels: string): Promise<number> {
  let sum = 0
  for (const url of metricsUrls) {
    const text = await (await fetch(url)).text()
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop())
    }
  }
  return sum
}
