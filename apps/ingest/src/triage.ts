import {
  DELIVERED_TYPES,
  isEnabled,
  isObject,
  normalizeBatch,
  normalizeEvent,
  type EventType,
  type NormalizeResult,
  type SegmentEvent,
  type ValidationIssue,
} from '@ucd/segment'
import type { Tenant } from '@ucd/config'
import { InvalidRequestError } from './errors'

/** What a route takes: one event (type from the path), a batch body, or Segment Webhooks' object or array. */
/** `client`: a route browsers and devices use (/v1/t, /v1/b, ...), where the caller's IP is the user's. */
export type IngestRouteKind =
  | { kind: 'single'; type: EventType; client: boolean }
  | { kind: 'batch'; client: boolean }
  | { kind: 'webhook' }

/** Types this destination delivers. Valid events of the others (screen, alias) get 200, never a job. */
const DELIVERED: ReadonlySet<EventType> = new Set(DELIVERED_TYPES)

/**
 * The types a tenant's events are enqueued for: the four, plus `screen` when it sets `screens: "event"`
 * and `alias` when it merges (`mergeAnonymous`, default on). The others get 200 and no job.
 */
export function deliveredTypesOf(tenant: Pick<Tenant, 'screens' | 'mergeAnonymous'>): ReadonlySet<EventType> {
  const types = new Set<EventType>(DELIVERED)
  if (tenant.screens === 'event') types.add('screen')
  if (tenant.mergeAnonymous) types.add('alias')
  return types
}

/** Most per-event errors returned in one response body. */
export const MAX_REPORTED_ERRORS = 100

export interface ItemError {
  /** Position in the batch (0 for a single event). */
  index: number
  type?: string
  messageId?: string
  issues: ValidationIssue[]
}

export interface Triage {
  /** Events in the request. */
  received: number
  /** Valid events this destination delivers and the integrations object lets through: to enqueue. */
  deliver: SegmentEvent[]
  /** Types of valid events the integrations object turned off. */
  filtered: string[]
  /** Types of valid events never delivered (screen, alias; Webhooks' delete notices). */
  notDelivered: string[]
  invalid: ItemError[]
}

export interface TriageContext {
  receivedAt: Date
  newMessageId?: () => string
  /** The caller's address: `context.ip` of client routes' events, and of events with `context.direct`. */
  requestIp?: string
  /** The types the tenant delivers (`deliveredTypesOf`); default: identify, track, page, group. */
  deliveredTypes?: ReadonlySet<EventType>
}

function sortResults(
  results: readonly NormalizeResult[],
  items: readonly unknown[],
  delivered: ReadonlySet<EventType>,
  fallbackType?: string,
): Triage {
  const triage: Triage = { received: items.length, deliver: [], filtered: [], notDelivered: [], invalid: [] }
  results.forEach((result, index) => {
    if (!result.ok) {
      const item = items[index]
      // A Segment Webhooks deletion notice is a known type this destination has nothing to do with.
      if (isObject(item) && item.type === 'delete') {
        triage.notDelivered.push('delete')
        return
      }
      triage.invalid.push({
        index,
        type: result.type ?? fallbackType,
        messageId: result.messageId,
        issues: result.errors,
      })
      return
    }
    const event = result.event
    if (!isEnabled(event)) triage.filtered.push(event.type)
    else if (!delivered.has(event.type)) triage.notDelivered.push(event.type)
    else triage.deliver.push(event)
  })
  return triage
}

/**
 * Validates and normalises a parsed body (packages/segment) and sorts its events into what to
 * enqueue and what not. Throws InvalidRequestError when the request as a whole is unusable (not a
 * batch, empty); per-event problems are returned, not thrown.
 */
export function triageBody(route: IngestRouteKind, body: unknown, context: TriageContext): Triage {
  const { deliveredTypes = DELIVERED, ...ctx } = context
  const sort = (results: readonly NormalizeResult[], items: readonly unknown[], fallbackType?: string) =>
    sortResults(results, items, deliveredTypes, fallbackType)
  switch (route.kind) {
    case 'single': {
      const result = normalizeEvent(body, { ...ctx, routeType: route.type, clientPath: route.client })
      return sort([result], [body], route.type)
    }
    case 'batch': {
      const batch = normalizeBatch(body, { ...ctx, clientPath: route.client })
      if (!batch.ok) {
        throw new InvalidRequestError(
          'UCD_ERR_INVALID_BATCH',
          batch.errors.map(e => `${e.path || '(body)'} ${e.message}`).join('; '),
        )
      }
      const items = isObject(body) && Array.isArray(body.batch) ? (body.batch as unknown[]) : []
      if (batch.results.length === 0) throw new InvalidRequestError('UCD_ERR_EMPTY_BATCH', 'batch')
      return sort(batch.results, items)
    }
    case 'webhook': {
      // Segment's servers forward these: the caller's address is theirs, never the user's.
      const { requestIp: _forwarder, ...itemCtx } = ctx
      if (Array.isArray(body)) {
        if (body.length === 0) throw new InvalidRequestError('UCD_ERR_EMPTY_BATCH', 'array of events')
        const items = body as unknown[]
        return sort(
          items.map(item => normalizeEvent(item, itemCtx)),
          items,
        )
      }
      return sort([normalizeEvent(body, itemCtx)], [body])
    }
  }
}
