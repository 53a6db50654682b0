import { randomUUID } from 'node:crypto'
import cors from '@fastify/cors'
import type { Config, Tenant } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, type EventType } from '@ucd/segment'
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import type { Registry } from 'prom-client'
import { tenantForWriteKey, verifyWebhookSignature, writeKeyFromBody, writeKeyFromHeader } from './auth'
import { readJsonBody, type BodyLimit, type ContentEncoding } from './body'
import { IngestHttpError, InvalidRequestError } from './errors'
import { createIngestMetrics, typeLabel, type EventOutcome, type IngestMetrics } from './metrics'
import { EventProducer } from './producer'
import { MAX_REPORTED_ERRORS, triageBody, type IngestRouteKind, type ItemError, type Triage } from './triage'

/** Route options of an ingest route: what it takes and its size limit. `metrics` is /v1/m (ignored). */
export type IngestRoute = (IngestRouteKind & { limit: BodyLimit }) | { kind: 'metrics' }

declare module 'fastify' {
  interface FastifyContextConfig {
    ingest?: IngestRoute
  }
  interface FastifyRequest {
    ingest: IngestRequestState | null
  }
}

interface IngestRequestState {
  /** Tenant of an `Authorization: Basic` write key, resolved before the body is read. */
  tenant?: Tenant
  bytes?: number
  encoding?: ContentEncoding
  /** The body's bytes, kept on the webhook route only (its X-Signature covers them). */
  source?: Buffer
  outcome?: Record<EventOutcome, number>
}

export interface BuildAppOptions {
  config: Config
  logger: Logger
  /** Where /metrics comes from; a new Registry by default (never prom-client's global one). */
  registry?: Registry
  /** Clock for `receivedAt` (tests). */
  now?: () => Date
  /** messageId for events that have none (default: random UUID, in packages/segment). */
  newMessageId?: () => string
}

// The short forms and /v1/b are what browser and mobile SDKs post to (segment-spec.md §1): the
// caller there is the user's device, so its address becomes the events' context.ip.
const SINGLE_ROUTES: ReadonlyArray<[string, EventType, 'client' | 'server']> = [
  ['identify', 'identify', 'server'],
  ['track', 'track', 'server'],
  ['page', 'page', 'server'],
  ['screen', 'screen', 'server'],
  ['group', 'group', 'server'],
  ['alias', 'alias', 'server'],
  ['i', 'identify', 'client'],
  ['t', 'track', 'client'],
  ['p', 'page', 'client'],
  ['s', 'screen', 'client'],
  ['g', 'group', 'client'],
  ['a', 'alias', 'client'],
]
const BATCH_ROUTES: ReadonlyArray<[string, 'client' | 'server']> = [
  ['batch', 'server'],
  ['import', 'server'],
  ['b', 'client'],
]
export const WEBHOOK_ROUTE = '/v1/webhook'

const SINGLE_LIMIT: BodyLimit = { maxBytes: MAX_EVENT_BYTES, what: 'a single-event request' }
const BATCH_LIMIT: BodyLimit = { maxBytes: MAX_BATCH_BYTES, what: 'a batch request' }

/** Every route the ingest answers, for docs and tests. */
export const INGEST_ROUTES: readonly string[] = [
  ...SINGLE_ROUTES.map(([path]) => `/v1/${path}`),
  ...BATCH_ROUTES.map(([path]) => `/v1/${path}`),
  WEBHOOK_ROUTE,
  '/v1/m',
]

const emptyOutcome = (): Record<EventOutcome, number> => ({
  accepted: 0,
  filtered: 0,
  duplicate: 0,
  invalid: 0,
  not_delivered: 0,
})

function errorBody(error: IngestHttpError, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { success: false, code: error.code, message: error.message, ...extra }
}

function reportedErrors(invalid: readonly ItemError[]): Record<string, unknown> {
  const body: Record<string, unknown> = { errors: invalid.slice(0, MAX_REPORTED_ERRORS) }
  if (invalid.length > MAX_REPORTED_ERRORS) body.errorsOmitted = invalid.length - MAX_REPORTED_ERRORS
  return body
}

/**
 * The ingest HTTP app: Segment's Tracking API routes, /health/*, /metrics. It owns one Redis
 * connection (created here, closed by `app.close()`); it starts whether or not Redis is up, answers
 * 503 while it is down and recovers by itself once it is back.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, logger } = options
  const now = options.now ?? (() => new Date())
  const metrics: IngestMetrics = createIngestMetrics(options.registry)
  const producer = new EventProducer({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    commandTimeoutMs: config.ingest.redisTimeoutMs,
    dedupeWindowMs: config.ingest.dedupeWindowMinutes * 60_000,
    logger,
    metrics,
  })

  const baseLogger: FastifyBaseLogger = logger
  const app = Fastify({
    loggerInstance: baseLogger,
    // One line per request, written in onResponse below; Fastify's own two lines are off.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Behind a load balancer, request.ip (context.ip of client events) comes from X-Forwarded-For
    // only for the proxies INGEST_TRUST_PROXY names; by default the socket's peer is the client.
    trustProxy: config.ingest.trustProxy,
    // A client that trickles its body never ties up the service for long.
    requestTimeout: 30_000,
    return503OnClosing: true,
  })
  // Shutdown: Fastify stops accepting connections (new requests on open ones get 503), lets the
  // requests in flight finish, then runs onClose. An answer sent meanwhile closes its connection, so
  // keep-alive clients do not hold the shutdown up.
  let closing = false
  app.addHook('preClose', done => {
    closing = true
    done()
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close')
    done(null, payload)
  })
  app.addHook('onClose', async () => {
    await producer.close()
  })
  app.decorateRequest('ingest', null)

  try {
    await app.register(cors, {
      // Browser SDKs (analytics.js) post from any site. Allowed request headers are reflected from
      // the preflight (Authorization, Content-Type, ...); credentials are allowed as no cookie is used.
      origin: true,
      credentials: true,
      methods: ['GET', 'POST', 'OPTIONS'],
      maxAge: 86_400,
    })
  } catch (error) {
    await producer.close()
    throw error
  }

  // Every body is JSON whatever its Content-Type says (SDKs send application/json, text/plain or
  // nothing): one parser for all, reading the stream itself so that limits apply after gzip.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (request: FastifyRequest, payload, done) => {
    const route = request.routeOptions.config.ingest
    if (route === undefined || route.kind === 'metrics') {
      // Not read: Node discards the rest of the body once the response is sent.
      done(null, undefined)
      return
    }
    readJsonBody(payload, request.headers, route.limit).then(
      parsed => {
        const state = (request.ingest ??= {})
        state.bytes = parsed.bytes
        state.encoding = parsed.encoding
        if (route.kind === 'webhook') state.source = parsed.source
        metrics.bodyBytes.observe(
          { route: request.routeOptions.url ?? 'unmatched', encoding: parsed.encoding },
          parsed.bytes,
        )
        done(null, parsed.json)
      },
      (error: Error) => done(error, undefined),
    )
  })

  app.addHook('onRequest', (request, _reply, done) => {
    // A Content-Type that is not even well-formed must not turn into a 415: ignore the header.
    if (request.routeOptions.config.ingest !== undefined) delete request.raw.headers['content-type']
    done()
  })

  app.addHook('preParsing', (request, _reply, payload, done) => {
    const route = request.routeOptions.config.ingest
    // A Basic write key is checked before the body is read: a wrong key costs no parsing.
    const headerKey = writeKeyFromHeader(request.headers.authorization)
    if (route === undefined || route.kind === 'metrics' || headerKey === undefined) {
      done(null, payload)
      return
    }
    try {
      request.ingest = { ...request.ingest, tenant: tenantForWriteKey(config.tenants, headerKey) }
      done(null, payload)
    } catch (error) {
      done(error as Error, payload)
    }
  })

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched')
    metrics.requests.inc({ route, status: String(reply.statusCode) })
    if (request.routeOptions.config.ingest === undefined) return
    const state = request.ingest
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        bytes: state?.bytes,
        encoding: state?.encoding,
        events: state?.outcome,
        userAgent: request.headers['user-agent']?.slice(0, 120),
      },
      'request completed',
    )
  })

  app.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof IngestHttpError) {
      if (error.statusCode === 503) void reply.header('retry-after', '1')
      return reply.code(error.statusCode).send(errorBody(error))
    }
    const status = (error as { statusCode?: unknown }).statusCode
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own client errors (e.g. a content-length that does not match the body).
      const code = (error as { code?: unknown }).code
      return reply.code(status).send({
        success: false,
        code: typeof code === 'string' ? code : 'UCD_ERR_BAD_REQUEST',
        message: error instanceof Error ? error.message : 'Bad request',
      })
    }
    request.log.error({ err: error }, 'unexpected error')
    return reply.code(500).send({ success: false, code: 'UCD_ERR_INTERNAL', message: 'Internal error' })
  })

  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) =>
    reply.code(404).send({
      success: false,
      code: 'UCD_ERR_NOT_FOUND',
      message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}`.slice(0, 200),
    }),
  )

  /** Counts the events of an answered request, in the response and in ucd_ingest_events_total. */
  const count = (
    state: IngestRequestState,
    triage: Triage,
    accepted: readonly string[],
    duplicates: readonly string[],
  ): Record<EventOutcome, number> => {
    const outcome = (state.outcome = emptyOutcome())
    const add = (name: EventOutcome, types: readonly (string | undefined)[]): void => {
      outcome[name] += types.length
      const byType = new Map<string, number>()
      for (const type of types) {
        const label = typeLabel(type)
        byType.set(label, (byType.get(label) ?? 0) + 1)
      }
      for (const [type, n] of byType) metrics.events.inc({ outcome: name, type }, n)
    }
    add('accepted', accepted)
    add(
      'invalid',
      triage.invalid.map(e => e.type),
    )
    add('filtered', triage.filtered)
    add('not_delivered', triage.notDelivered)
    add('duplicate', duplicates)
    return outcome
  }

  const ingest = async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.config.ingest
    if (route === undefined || route.kind === 'metrics') throw new Error('not an ingest route')
    const receivedAt = now()
    const body = request.body
    if (body === undefined) throw new InvalidRequestError('UCD_ERR_EMPTY_BODY', 'The body is empty')
    const state = (request.ingest ??= {})
    state.tenant ??= tenantForWriteKey(config.tenants, writeKeyFromBody(body))
    const tenant = state.tenant
    request.log = request.log.child({ tenantId: tenant.id })
    if (route.kind === 'webhook' && tenant.webhookSecret !== undefined) {
      verifyWebhookSignature(tenant.webhookSecret, request.headers['x-signature'], body, state.source)
    }

    let triage: Triage
    try {
      triage = triageBody(route, body, {
        receivedAt,
        newMessageId: options.newMessageId,
        requestIp: request.ip,
      })
    } catch (error) {
      if (error instanceof IngestHttpError) throw error
      // The normaliser must never throw; if hostile input makes it, that input is the problem.
      request.log.error({ err: error }, 'normalising the body failed')
      throw new InvalidRequestError('UCD_ERR_UNPROCESSABLE', 'The body could not be processed')
    }

    // Wholly unusable: a single event that is invalid, or a batch whose every event is invalid.
    if (triage.invalid.length > 0 && triage.invalid.length === triage.received) {
      count(state, triage, [], [])
      const error = new InvalidRequestError(
        'UCD_ERR_INVALID_EVENT',
        triage.received === 1 ? 'The event is invalid' : 'Every event in the batch is invalid',
      )
      return reply.code(400).send(errorBody(error, reportedErrors(triage.invalid)))
    }

    const result =
      triage.deliver.length > 0
        ? await producer.enqueue(tenant.id, triage.deliver, receivedAt.toISOString())
        : { accepted: [], duplicates: [] }
    const outcome = count(
      state,
      triage,
      result.accepted.map(e => e.type),
      result.duplicates.map(e => e.type),
    )
    return reply.code(200).send({
      success: true,
      accepted: outcome.accepted,
      duplicate: outcome.duplicate,
      filtered: outcome.filtered,
      notDelivered: outcome.not_delivered,
      invalid: outcome.invalid,
      ...(triage.invalid.length > 0 ? reportedErrors(triage.invalid) : {}),
    })
  }

  for (const [path, type, caller] of SINGLE_ROUTES) {
    const route: IngestRoute = { kind: 'single', type, client: caller === 'client', limit: SINGLE_LIMIT }
    app.post(`/v1/${path}`, { config: { ingest: route } }, ingest)
  }
  for (const [path, caller] of BATCH_ROUTES) {
    const route: IngestRoute = { kind: 'batch', client: caller === 'client', limit: BATCH_LIMIT }
    app.post(`/v1/${path}`, { config: { ingest: route } }, ingest)
  }
  app.post(WEBHOOK_ROUTE, { config: { ingest: { kind: 'webhook', limit: BATCH_LIMIT } } }, ingest)
  // analytics.js posts its own client-side metrics here every ~30 s: acknowledged and dropped.
  app.post('/v1/m', { config: { ingest: { kind: 'metrics' } } }, async (_request, reply) =>
    reply.code(200).send({ success: true }),
  )

  app.get('/health/live', async (_request, reply) => reply.send({ status: 'ok' }))
  app.get('/health/ready', async (_request, reply) => {
    const ok = await producer.ping()
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', redis: ok })
  })
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  )

  return app
}
