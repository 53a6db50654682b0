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
import { setImmediate as nextTurn } from 'node:timers/promises'
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

/** Events normalised between two turns of the event loop: a maximal batch never blocks it for long. */
export const TRIAGE_CHUNK = 100

/** Items a batch may hold unless INGEST_MAX_BATCH_ITEMS says otherwise. */
export const DEFAULT_MAX_BATCH_ITEMS = 2500

/**
 * The types a tenant's events are enqueued for: the four, plus `screen` when it sets `screens: "event"`
 * and `alias` when it merges (`mergeAnonymous`, default on). The others get 200 and no job.
 */
export function deliveredTypesOf(tenant: Pick<Tenant, 'screens' | 'mergeAnonymous'>): ReadonlySet<EventType> {
  const cached = deliveredOf.get(tenant)
  if (cached !== undefined) return cached
  const types = new Set<EventType>(DELIVERED)
  if (tenant.screens === 'event') types.add('screen')
  if (tenant.mergeAnonymous) types.add('alias')
  deliveredOf.set(tenant, types)
  return types
}
/** Per tenant object (tenants are read once, at start): no Set per request. */
const deliveredOf = new WeakMap<object, ReadonlySet<EventType>>()

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
  /** INGEST_MAX_BATCH_ITEMS: more items in a batch (or webhook array) answers 400. */
  maxBatchItems?: number
}

/** 400 when a batch holds more items than allowed, checked before any item is looked at. */
function checkItemCount(count: number, max: number): void {
  if (count > max) throw new InvalidRequestError('UCD_ERR_TOO_MANY_ITEMS', max, count)
}

/** Maps `items` through `normalize` in chunks of TRIAGE_CHUNK, yielding to the event loop between chunks. */
async function inChunks<R>(
  items: readonly unknown[],
  normalize: (chunk: readonly unknown[]) => R[],
): Promise<R[]> {
  const results: R[] = []
  for (let from = 0; from < items.length; from += TRIAGE_CHUNK) {
    if (from > 0) await nextTurn()
    results.push(...normalize(items.slice(from, from + TRIAGE_CHUNK)))
  }
  return results
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
 * enqueue and what not. Rejects with InvalidRequestError when the request as a whole is unusable (not
 * a batch, empty, over INGEST_MAX_BATCH_ITEMS items); per-event problems are returned, not thrown.
 * A batch is normalised TRIAGE_CHUNK items at a time, yielding to the event loop in between, so a
 * maximal request never holds it up for long (apps/bench measures the event-loop delay).
 */
export async function triageBody(
  route: IngestRouteKind,
  body: unknown,
  context: TriageContext,
): Promise<Triage> {
  if (route.kind === 'single') {
    // The browser's path, once per request: no rest/spread copies of the context.
    const result = normalizeEvent(body, {
      receivedAt: context.receivedAt,
      newMessageId: context.newMessageId,
      requestIp: context.requestIp,
      routeType: route.type,
      clientPath: route.client,
    })
    return sortResults([result], [body], context.deliveredTypes ?? DELIVERED, route.type)
  }
  const { deliveredTypes = DELIVERED, maxBatchItems = DEFAULT_MAX_BATCH_ITEMS, ...normalizeCtx } = context
  const sort = (results: readonly NormalizeResult[], items: readonly unknown[], fallbackType?: string) =>
    sortResults(results, items, deliveredTypes, fallbackType)
  switch (route.kind) {
    case 'batch': {
      const items = isObject(body) && Array.isArray(body.batch) ? (body.batch as unknown[]) : undefined
      if (items === undefined) {
        const batch = normalizeBatch(body, { ...normalizeCtx, clientPath: route.client })
        throw new InvalidRequestError(
          'UCD_ERR_INVALID_BATCH',
          batch.ok
            ? 'batch must be an array'
            : batch.errors.map(e => `${e.path || '(body)'} ${e.message}`).join('; '),
        )
      }
      if (items.length === 0) throw new InvalidRequestError('UCD_ERR_EMPTY_BATCH', 'batch')
      checkItemCount(items.length, maxBatchItems)
      const wrapper = body as Record<string, unknown>
      const results = await inChunks(items, chunk => {
        const batch = normalizeBatch(
          { ...wrapper, batch: chunk },
          { ...normalizeCtx, clientPath: route.client },
        )
        if (!batch.ok) throw new Error('a batch wrapper that was valid is not any more')
        return batch.results
      })
      return sort(results, items)
    }
    case 'webhook': {
      // Segment's servers forward these: the caller's address is theirs, never the user's.
      const { requestIp: _forwarder, ...itemCtx } = normalizeCtx
      if (Array.isArray(body)) {
        if (body.length === 0) throw new InvalidRequestError('UCD_ERR_EMPTY_BATCH', 'array of events')
        checkItemCount(body.length, maxBatchItems)
        const items = body as unknown[]
        return sort(await inChunks(items, chunk => chunk.map(item => normalizeEvent(item, itemCtx))), items)
      }
      return sort([normalizeEvent(body, itemCtx)], [body])
    }
  }
}
