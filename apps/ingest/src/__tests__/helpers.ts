import { Writable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { loadConfig, type Config } from '@ucd/config'
import { createLogger, type Logger } from '@ucd/logger'
import { EventJobDataSchema, eventJobId, type EventsQueue } from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp, buildMetricsApp, type BuildAppOptions } from '../app'
import { UnavailableError } from '../errors'
import { createIngestMetrics, type IngestMetrics } from '../metrics'
import { EventProducer } from '../producer'
import type { EnqueueResult, IngestProducer } from '../producer-port'

export const WRITE_KEY = 'wk_test_0123456789abcdef'

/** The metrics of each test app, for `scrape`. */
const metricsOfApp = new WeakMap<FastifyInstance, IngestMetrics>()

/**
 * GET /metrics of a test app's metrics, as the ingest serves them on INGEST_METRICS_PORT
 * (`buildMetricsApp`; the public app has no /metrics).
 */
export async function scrape(app: FastifyInstance): Promise<LightMyRequestResponse> {
  const metrics = metricsOfApp.get(app)
  if (metrics === undefined) throw new Error('not an app of testApp or memoryApp')
  const metricsApp = await buildMetricsApp({ metrics, logger: memoryLogger().logger })
  try {
    return await metricsApp.inject({ method: 'GET', url: '/metrics' })
  } finally {
    await metricsApp.close()
  }
}

export function testConfig(env: Record<string, string | undefined> = {}, tenantsFile?: string): Config {
  return loadConfig(
    {
      SEGMENT_WRITE_KEY: tenantsFile === undefined ? WRITE_KEY : undefined,
      TENANTS_FILE: tenantsFile === undefined ? undefined : '/tenants.json',
      LOG_LEVEL: 'info',
      ...env,
    },
    { app: 'ingest', readFile: () => tenantsFile ?? '[]' },
  )
}

/** A logger writing JSON lines into memory. */
export function memoryLogger(
  secrets: readonly string[] = [],
  level: Config['logLevel'] = 'info',
): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      callback()
    },
  })
  return {
    logger: createLogger({ service: 'ingest', level, pretty: false, secrets, destination }),
    lines,
  }
}

type AppExtra = Partial<Omit<BuildAppOptions, 'config' | 'logger' | 'producer' | 'metrics'>> & {
  tenantsFile?: string
}

/**
 * The app on a real Redis (integration tests): a real `EventProducer` from the config, closed by
 * `app.close()` here (in main.ts the owner closes it after the app).
 */
export async function testApp(
  env: Record<string, string | undefined>,
  extra: AppExtra = {},
): Promise<{ app: FastifyInstance; config: Config; lines: string[] }> {
  const config = testConfig(env, extra.tenantsFile)
  const { logger, lines } = memoryLogger(config.secrets, config.logLevel)
  const metrics = createIngestMetrics()
  const producer = EventProducer.fromConfig(config, logger, metrics)
  const app = await buildApp({ config, logger, producer, metrics, ...extra })
  metricsOfApp.set(app, metrics)
  app.addHook('onClose', () => producer.close())
  return { app, config, lines }
}

/**
 * An in-memory producer for unit tests (no Redis): keeps what it was given, dedupes by (tenant,
 * messageId), and while `available` is false answers as EventProducer does with Redis away:
 * not ready, and every enqueue an UnavailableError.
 */
export class MemoryProducer implements IngestProducer {
  available = true
  readonly jobs: Array<{ tenantId: string; event: SegmentEvent; receivedAt: string }> = []
  private readonly seen = new Set<string>()

  get ready(): boolean {
    return this.available
  }

  async ping(): Promise<boolean> {
    return this.available
  }

  async enqueue(
    tenantId: string,
    events: readonly SegmentEvent[],
    receivedAt: string,
  ): Promise<EnqueueResult> {
    if (!this.available) throw new UnavailableError()
    const result: EnqueueResult = { accepted: [], duplicates: [] }
    for (const event of events) {
      const key = `${tenantId}\n${event.messageId}`
      if (this.seen.has(key)) result.duplicates.push(event)
      else {
        this.seen.add(key)
        result.accepted.push(event)
        this.jobs.push({ tenantId, event, receivedAt })
      }
    }
    return result
  }

  async close(): Promise<void> {
    this.available = false
  }
}

/** The app with a MemoryProducer (unit tests): everything but Redis. */
export async function memoryApp(
  env: Record<string, string | undefined> = {},
  extra: AppExtra = {},
): Promise<{ app: FastifyInstance; producer: MemoryProducer; config: Config; lines: string[] }> {
  const config = testConfig(env, extra.tenantsFile)
  const { logger, lines } = memoryLogger(config.secrets, config.logLevel)
  const producer = new MemoryProducer()
  const metrics = createIngestMetrics()
  const app = await buildApp({ config, logger, producer, metrics, ...extra })
  metricsOfApp.set(app, metrics)
  return { app, producer, config, lines }
}

export const basic = (user: string, password = ''): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

/** Basic auth with the test write key. */
export const auth = { authorization: basic(WRITE_KEY) }

/** POSTs `payload` (JSON-encoded unless a string or a Buffer) through `app.inject`. */
export const post = (
  target: FastifyInstance,
  path: string,
  payload: unknown,
  headers: Record<string, string> = auth,
) =>
  target.inject({
    method: 'POST',
    url: path,
    headers,
    payload: Buffer.isBuffer(payload) || typeof payload === 'string' ? payload : JSON.stringify(payload),
  })

export const gzipJson = (value: unknown): Buffer => gzipSync(Buffer.from(JSON.stringify(value)))

export const json = (response: LightMyRequestResponse): any => JSON.parse(response.body)

/** Polls /health/ready until the app reports Redis ready. */
export async function untilReady(app: FastifyInstance, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    if (response.statusCode === 200) return
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${response.body}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Raw request bodies as a Segment client POSTs them (no messageId, receivedAt or context: the ingest adds
 * those), not normalised events: for those, `testEvent` of `@ucd/segment/testing`.
 */
export const identify = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  userId: '019mr8mf4r',
  traits: { email: 'pgibbons@example.com', name: 'Peter Gibbons' },
  timestamp: '2012-12-02T00:30:08.276Z',
  ...extra,
})

export const track = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  userId: '019mr8mf4r',
  event: 'Item Purchased',
  properties: { name: 'Leap to Conclusions Mat', revenue: 14.99 },
  timestamp: '2012-12-02T00:30:12.984Z',
  ...extra,
})

export const screen = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  userId: '019mr8mf4r',
  name: 'Home',
  properties: { variation: 'blue signup button' },
  ...extra,
})

let midCounter = 0
/** A message id of its own: the hint, a counter and the time. */
export const mid = (hint: string): string => `${hint}-${++midCounter}-${Date.now()}`

/** The job `from` holds for (tenant, messageId), with its data parsed; undefined if none. */
export async function queuedJob(from: EventsQueue, tenantId: string, messageId: string) {
  const job = await from.getJob(eventJobId(tenantId, messageId))
  if (!job) return undefined
  return { job, data: EventJobDataSchema.parse(job.data) }
}
