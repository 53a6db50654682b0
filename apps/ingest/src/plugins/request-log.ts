import type { FastifyBaseLogger, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { EventOutcome, IngestMetrics } from '../metrics'
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

/** What the ingest answered since the last summary line. */
class Tally {
  requests: Partial<Record<StatusClass, number>> = {}
  events: Partial<Record<EventOutcome, number>> = {}
  total = 0

  add(status: number, outcome: Record<EventOutcome, number> | undefined): void {
    const cls = statusClass(status)
    this.requests[cls] = (this.requests[cls] ?? 0) + 1
    this.total += 1
    if (outcome === undefined) return
    for (const name of Object.keys(outcome) as EventOutcome[]) {
      if (outcome[name] > 0) this.events[name] = (this.events[name] ?? 0) + outcome[name]
    }
  }
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
  let tally = new Tally()
  let since = Date.now()
  const summarize = (): void => {
    if (tally.total === 0) return
    const { requests, events } = tally
    const now = Date.now()
    log.info({ seconds: Math.round((now - since) / 1000), requests, events }, 'requests answered')
    tally = new Tally()
    since = now
  }
  const timer = setInterval(summarize, options.summaryIntervalMs ?? REQUEST_SUMMARY_INTERVAL_MS)
  timer.unref()
  app.addHook('onClose', (_app, next) => {
    clearInterval(timer)
    summarize()
    next()
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
    tally.add(status, state?.outcome)
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
