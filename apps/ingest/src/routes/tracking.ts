import type { TenantRegistry } from '@ucd/config'
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES, type EventType } from '@ucd/segment'
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import { tenantForWriteKey, verifyWebhookSignature, writeKeyFromBody } from '../auth'
import type { BodyLimit } from '../body'
import { IngestHttpError, InvalidRequestError } from '../errors'
import { typeLabel, type EventOutcome, type IngestMetrics } from '../metrics'
import type { IngestProducer } from '../producer-port'
import { RequestLogger } from '../request-logger'
import { ingestRouteOf, type IngestRequestState, type IngestRoute } from '../request-state'
import { MAX_REPORTED_ERRORS, deliveredTypesOf, triageBody, type ItemError, type Triage } from '../triage'

export interface TrackingOptions {
  tenants: TenantRegistry
  producer: IngestProducer
  metrics: IngestMetrics
  /** Clock for `receivedAt`. */
  now: () => Date
  /** messageId for events that have none (default: random UUID, in packages/segment). */
  newMessageId?: () => string
  /** INGEST_MAX_BATCH_ITEMS. */
  maxBatchItems: number
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

function reportedErrors(invalid: readonly ItemError[]): Record<string, unknown> {
  const body: Record<string, unknown> = { errors: invalid.slice(0, MAX_REPORTED_ERRORS) }
  if (invalid.length > MAX_REPORTED_ERRORS) body.errorsOmitted = invalid.length - MAX_REPORTED_ERRORS
  return body
}

/**
 * Segment's Tracking API: the single-event routes (long and short forms), the batch routes, the
 * Webhooks route and /v1/m. The body is parsed and the Basic key checked by the plugins; here the
 * tenant is settled, the events triaged, the deliverable ones enqueued, and the answer counted.
 */
export const trackingRoutes: FastifyPluginCallback<TrackingOptions> = (app, options, done) => {
  const { tenants, producer, metrics, now } = options

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
      if (types.length === 0) return
      if (types.length === 1) {
        // A single event (every browser request): one increment, no tally.
        metrics.events.inc({ outcome: name, type: typeLabel(types[0]) })
        return
      }
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
    const route = ingestRouteOf(request)
    if (route === undefined || route.kind === 'metrics') throw new Error('not an ingest route')
    const receivedAt = now()
    const body = request.body
    if (body === undefined) throw new InvalidRequestError('UCD_ERR_EMPTY_BODY')
    const state = (request.ingest ??= {})
    state.tenant ??= tenantForWriteKey(tenants, writeKeyFromBody(body))
    const tenant = state.tenant
    if (request.log instanceof RequestLogger) request.log.bind({ tenantId: tenant.id })
    else request.log = request.log.child({ tenantId: tenant.id })
    if (route.kind === 'webhook' && tenant.webhookSecret !== undefined) {
      verifyWebhookSignature(tenant.webhookSecret, request.headers['x-signature'], body, state.source)
    }

    let triage: Triage
    try {
      triage = await triageBody(route, body, {
        receivedAt,
        newMessageId: options.newMessageId,
        requestIp: request.ip,
        maxBatchItems: options.maxBatchItems,
        deliveredTypes: deliveredTypesOf(tenant),
      })
    } catch (error) {
      if (error instanceof IngestHttpError) throw error
      // The normaliser must never throw; if hostile input makes it, that input is the problem.
      request.log.error({ err: error }, 'normalising the body failed')
      throw new InvalidRequestError('UCD_ERR_UNPROCESSABLE')
    }

    // Wholly unusable: a single event that is invalid, or a batch whose every event is invalid.
    if (triage.invalid.length > 0 && triage.invalid.length === triage.received) {
      count(state, triage, [], [])
      const error = new InvalidRequestError('UCD_ERR_INVALID_EVENT', triage.received)
      return reply.code(error.statusCode).send(error.body(reportedErrors(triage.invalid)))
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
    const url = `/v1/${path}`
    const route: IngestRoute = { kind: 'single', type, client: caller === 'client', limit: SINGLE_LIMIT, url }
    app.post(url, { config: { ingest: route } }, ingest)
  }
  for (const [path, caller] of BATCH_ROUTES) {
    const url = `/v1/${path}`
    const route: IngestRoute = { kind: 'batch', client: caller === 'client', limit: BATCH_LIMIT, url }
    app.post(url, { config: { ingest: route } }, ingest)
  }
  app.post(
    WEBHOOK_ROUTE,
    { config: { ingest: { kind: 'webhook', limit: BATCH_LIMIT, url: WEBHOOK_ROUTE } } },
    ingest,
  )
  // analytics.js posts its own client-side metrics here every ~30 s: acknowledged and dropped.
  app.post('/v1/m', { config: { ingest: { kind: 'metrics', url: '/v1/m' } } }, async (_request, reply) =>
    reply.code(200).send({ success: true }),
  )
  done()
}
