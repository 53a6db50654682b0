import type { FastifyBaseLogger, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { IngestMetrics } from '../metrics'
import { ingestRouteOf } from '../request-state'

export interface RequestLogOptions {
  metrics: IngestMetrics
  /** How often the `requests answered` summary is logged (default 60 s; tests make it short). */
  summaryIntervalMs?: number
}

/** Default interval of the `requests answered` summary line. */
export const REQUEST_SUMMARY_INTERVAL_MS = 60_000

type StatusClass = '2xx' | '3xx' | '4xx' | '5xx'
const statusClass = (status: number): StatusClass =>
  status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx'

interface Totals {
  /** Ingest requests answered, by status class. */
  requests: Record<string, number>
  /** Their events, by outcome. */
  events: Record<string, number>
}

/**
 * What the summary line reports, read off the counters every answer already goes into
 * (`ucd_ingest_requests_total` of the ingest routes, `ucd_ingest_events_total`): nothing is counted
 * twice on the request path.
 */
async function totals(metrics: IngestMetrics): Promise<Totals> {
  const requests: Record<string, number> = {}
  for (const { labels, value } of (await metrics.requests.get()).values) {
    if (!String(labels.route).startsWith('/v1/')) continue
    const cls = statusClass(Number(labels.status))
    requests[cls] = (requests[cls] ?? 0) + value
  }
  const events: Record<string, number> = {}
  for (const { labels, value } of (await metrics.events.get()).values) {
    const outcome = String(labels.outcome)
    events[outcome] = (events[outcome] ?? 0) + value
  }
  return { requests, events }
}

/** The counts of `now` above those of `before`, without the ones that did not move. */
function since(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const moved: Record<string, number> = {}
  for (const [key, value] of Object.entries(now)) {
    if (value > (before[key] ?? 0)) moved[key] = value - (before[key] ?? 0)
  }
  return moved
}

/**
 * Counts every answer in `ucd_ingest_requests_total` and logs the answered ingest requests (Fastify's
 * own two lines per request are off): a request answered with an error (4xx, 5xx) gets its own line at
 * info, a successful one at debug (`LOG_LEVEL=debug`). At thousands of requests a second a line per
 * success was about a tenth of the ingest's CPU and a flood nobody reads; instead, every
 * `summaryIntervalMs` one info line, `requests answered`, says how many requests were answered (by
 * status class) and what became of their events. Never the body or a header but the user agent.
 */
const requestLog: FastifyPluginCallback<RequestLogOptions> = (app, options, done) => {
  const { metrics } = options
  // The root logger, with the request's id and tenant written out: what the request's logger would
  // write, without merging its bindings into the line on every request (request-logger.ts).
  const log = app.log
  // pino's levelVal: debug is 20; the level can change at run time, so it is read per request.
  const debugEnabled = (): boolean => (log as FastifyBaseLogger & { levelVal: number }).levelVal <= 20
  let last: Totals = { requests: {}, events: {} }
  let lastAt = Date.now()
  const summarize = async (): Promise<void> => {
    const now = await totals(metrics)
    const requests = since(now.requests, last.requests)
    if (Object.keys(requests).length === 0) return
    const at = Date.now()
    const events = since(now.events, last.events)
    log.info({ seconds: Math.round((at - lastAt) / 1000), requests, events }, 'requests answered')
    last = now
    lastAt = at
  }
  const failed = (error: unknown): void => log.warn({ err: error }, 'could not write the requests summary')
  const timer = setInterval(
    () => void summarize().catch(failed),
    options.summaryIntervalMs ?? REQUEST_SUMMARY_INTERVAL_MS,
  )
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await summarize().catch(failed)
  })

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, next) => {
    const ingest = ingestRouteOf(request)
    const route = ingest?.url ?? (request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'))
    const status = reply.statusCode
    metrics.requests.inc({ route, status: String(status) })
    if (ingest === undefined) {
      next()
      return
    }
    const state = request.ingest
    const level = status >= 400 ? 'info' : 'debug'
    if (status >= 400 || debugEnabled()) {
      log[level](
        {
          requestId: request.id,
          tenantId: state?.tenant?.id,
          method: request.method,
          route,
          status,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          bytes: state?.bytes,
          encoding: state?.encoding,
          events: state?.outcome,
          userAgent: request.headers['user-agent']?.slice(0, 120),
        },
        'request completed',
      )
    }
    next()
  })
  done()
}

export default fp(requestLog, { name: 'ingest-request-log', fastify: '5.x' })
