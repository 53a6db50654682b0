import { randomUUID } from 'node:crypto'
import { isIPv4 } from 'node:net'
import { parseDateValue, toIsoClamped } from './dates'
import { isObject, isPlainObject, type JsonObject } from './json'
import { EVENT_TYPES, MAX_EVENT_BYTES, MAX_MESSAGE_ID_LENGTH, SegmentEventSchema } from './schema'
import type { EventType, SegmentEvent, ValidationIssue } from './schema'

// From whatever a real client sent to the normalised event of schema.ts (the rules are listed in
// this package's README). Lenient where real SDKs are sloppy (dates, numeric ids, nulls), strict
// where an event cannot be delivered (no identity, no event name, ...). Never throws.

export interface NormalizeContext {
  /** When the ingest received the request. */
  receivedAt: Date
  /** Single-event routes (/v1/track, /v1/t, ...): overrides the body's type. */
  routeType?: EventType
  /**
   * Batch-level fields merged into each item (item wins); sentAt used when the item has none.
   * `bytes`: the JSON size of the batch's context and integrations, counted in each item's 32 KB.
   */
  batch?: { context?: unknown; integrations?: unknown; sentAt?: unknown; bytes?: number }
  /** Default crypto.randomUUID(). */
  newMessageId?: () => string
  /** The caller's address as the ingest saw it; see `clientPath`. */
  requestIp?: string
  /**
   * A client route (`/v1/t`, `/v1/b`, ...: browsers and devices). There, as Segment's servers do, an
   * event without `context.ip` gets `requestIp`; elsewhere only an event with `context.direct: true`.
   */
  clientPath?: boolean
}

export type NormalizeResult =
  | { ok: true; event: SegmentEvent }
  | { ok: false; errors: ValidationIssue[]; type?: string; messageId?: string }

export type BatchResult = { ok: true; results: NormalizeResult[] } | { ok: false; errors: ValidationIssue[] }

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES)

/** UTF-8 byte size of the value as JSON, or Infinity when it is not serialisable. */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
  } catch (_error) {
    return Number.POSITIVE_INFINITY
  }
}

/**
 * True when the JSON of `value` is surely at most `budget` UTF-8 bytes, by an upper bound that
 * serialises nothing: a string or key counts 6 bytes per UTF-16 unit (a `\uXXXX` escape, the most one
 * can take) plus its quotes, colon and comma, a number 25 (`-1.7976931348623157e+308` is 24), `true`,
 * `false` and `null` 5, an array or object its brackets and commas. Only JSON's own kinds (plain objects,
 * arrays, strings, numbers, booleans, null) are counted: anything else answers false, as does a bound
 * past `budget` (it stops there); the caller then measures exactly. Iterative: hostile depth cannot blow
 * the stack. A 1 KB event bounds at a few KB in about half a microsecond, where serialising it to
 * measure it took 5–6 (5 % of a batch request's CPU in a profile).
 */
export function surelyFitsJson(value: unknown, budget: number): boolean {
  let total = 0
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node === 'string') total += 2 + 6 * node.length
    else if (typeof node === 'number') total += 25
    else if (typeof node === 'boolean' || node === null) total += 5
    else if (Array.isArray(node)) {
      total += 2 + node.length
      if (total > budget) return false
      for (let i = 0; i < node.length; i += 1) stack.push(node[i])
    } else if (isPlainObject(node)) {
      total += 2
      for (const key in node) {
        if (!Object.prototype.hasOwnProperty.call(node, key)) continue
        total += 4 + 6 * key.length
        if (total > budget) return false
        stack.push(node[key])
      }
    } else return false
    if (total > budget) return false
  }
  return true
}

/** An identifier: strings as sent (blank = missing), finite numbers as strings. */
function readId(raw: JsonObject, field: string, issues: ValidationIssue[]): string | undefined {
  const value = raw[field]
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value.trim() === '' ? undefined : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  issues.push({ path: field, message: `${field} must be a string or a number` })
  return undefined
}

/** A plain-object field: null or missing is `{}`, anything else that is not an object an issue. */
function readObject(raw: JsonObject, field: string, issues: ValidationIssue[]): JsonObject {
  const value = raw[field]
  if (value === undefined || value === null) return {}
  if (isObject(value)) return value
  issues.push({ path: field, message: `${field} must be an object` })
  return {}
}

/** An optional free-text field (page name, category, channel, ...): numbers become strings. */
function readText(raw: JsonObject, field: string): string | undefined {
  const value = raw[field]
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/** Batch-level object merged under the item's own (item keys win). */
function merge(batchLevel: unknown, item: JsonObject): JsonObject {
  return isObject(batchLevel) ? { ...batchLevel, ...item } : item
}

/**
 * segment-spec.md §3: Segment fills `context.ip` from the request for client-side events, and for
 * HTTP API calls that set `context.direct: true`; IPv6 is not collected. An IP the event carries wins.
 */
function withRequestIp(context: JsonObject, ctx: NormalizeContext): JsonObject {
  if (ctx.requestIp === undefined || (ctx.clientPath !== true && context.direct !== true)) return context
  if (typeof context.ip === 'string' && context.ip.trim() !== '') return context
  const ip = ctx.requestIp.startsWith('::ffff:') ? ctx.requestIp.slice(7) : ctx.requestIp
  return isIPv4(ip) ? { ...context, ip } : context
}

interface Times {
  timestamp: string
  originalTimestamp?: string
  sentAt?: string
  receivedAt: string
}

/**
 * segment-spec.md §2.3: timestamp = receivedAt - (sentAt - originalTimestamp), where the original
 * is the client's originalTimestamp, else its timestamp, else receivedAt. A forwarded event (one
 * that already carries a receivedAt that parses) keeps its receivedAt and timestamp. A timestamp in
 * the future ("spoofed client times can yield a future timestamp", §2.3) is clamped to receivedAt
 * (and never later than this ingest's own receipt): nothing happens after it is received.
 */
function computeTimes(raw: JsonObject, ctx: NormalizeContext): Times {
  const forwardedReceived = parseDateValue(raw.receivedAt)
  const ownReceived = ctx.receivedAt.getTime()
  const received = forwardedReceived ?? (Number.isFinite(ownReceived) ? ownReceived : 0)
  const original = parseDateValue(raw.originalTimestamp) ?? parseDateValue(raw.timestamp)
  const sent = parseDateValue(raw.sentAt) ?? parseDateValue(ctx.batch?.sentAt)
  const corrected =
    original === undefined ? received : sent === undefined ? original : received - (sent - original)
  const kept = forwardedReceived === undefined ? undefined : parseDateValue(raw.timestamp)
  const latest = Number.isFinite(ownReceived) ? Math.min(received, ownReceived) : received
  const times: Times = {
    timestamp: toIsoClamped(Math.min(kept ?? corrected, latest)),
    receivedAt: toIsoClamped(received),
  }
  const forwardedOriginal = forwardedReceived === undefined ? original : parseDateValue(raw.originalTimestamp)
  if (forwardedOriginal !== undefined) times.originalTimestamp = toIsoClamped(forwardedOriginal)
  if (sent !== undefined) times.sentAt = toIsoClamped(sent)
  return times
}

function zodIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): ValidationIssue[] {
  return error.issues.map(issue => ({
    path: issue.path.map(p => String(p)).join('.'),
    message: issue.message,
  }))
}

/**
 * One raw event (a single-event body or one batch item) to the normalised event. `writeKey`,
 * `_metadata` and every other top-level field the schema does not know are dropped.
 */
export function normalizeEvent(raw: unknown, ctx: NormalizeContext): NormalizeResult {
  if (!isObject(raw)) return { ok: false, errors: [{ path: '', message: 'event must be a JSON object' }] }

  const rawType: unknown = ctx.routeType ?? raw.type
  const readableType = typeof rawType === 'string' ? rawType : undefined
  const rawMessageId = raw.messageId
  const readableMessageId =
    typeof rawMessageId === 'string' && rawMessageId.trim() !== ''
      ? rawMessageId.trim()
      : typeof rawMessageId === 'number' && Number.isFinite(rawMessageId)
        ? String(rawMessageId)
        : undefined
  const fail = (errors: ValidationIssue[]): NormalizeResult => ({
    ok: false,
    errors,
    ...(readableType === undefined ? {} : { type: readableType }),
    ...(readableMessageId === undefined ? {} : { messageId: readableMessageId }),
  })

  // The limit holds for the event as enqueued: a batch's context and integrations count in every item.
  const batchBytes = ctx.batch?.bytes ?? 0
  const bytes = surelyFitsJson(raw, MAX_EVENT_BYTES - batchBytes) ? 0 : jsonBytes(raw) + batchBytes
  if (bytes > MAX_EVENT_BYTES) {
    const what = batchBytes > 0 ? "event with the batch's context and integrations" : 'event'
    return fail([{ path: '', message: `${what} is ${bytes} bytes, over the ${MAX_EVENT_BYTES}-byte limit` }])
  }

  const issues: ValidationIssue[] = []
  const type = readableType?.trim().toLowerCase()
  if (type === undefined || type === '') {
    issues.push({ path: 'type', message: 'type is required' })
  } else if (!TYPES.has(type)) {
    issues.push({
      path: 'type',
      message: `unknown type "${readableType}"; expected one of ${EVENT_TYPES.join(', ')}`,
    })
  }

  if (readableMessageId !== undefined && readableMessageId.length > MAX_MESSAGE_ID_LENGTH) {
    issues.push({
      path: 'messageId',
      message: `messageId must be at most ${MAX_MESSAGE_ID_LENGTH} characters`,
    })
  } else if (readableMessageId === undefined && rawMessageId !== undefined && rawMessageId !== null) {
    if (typeof rawMessageId !== 'string')
      issues.push({ path: 'messageId', message: 'messageId must be a string' })
  }

  const userId = readId(raw, 'userId', issues)
  const anonymousId = readId(raw, 'anonymousId', issues)
  const badIdentity = issues.some(i => i.path === 'userId' || i.path === 'anonymousId')
  if (userId === undefined && anonymousId === undefined && !badIdentity) {
    issues.push({ path: 'userId', message: 'userId or anonymousId is required' })
  }

  const context = withRequestIp(merge(ctx.batch?.context, readObject(raw, 'context', issues)), ctx)
  const integrations = merge(ctx.batch?.integrations, readObject(raw, 'integrations', issues))

  const specific: JsonObject = {}
  switch (type) {
    case 'identify':
      specific.traits = readObject(raw, 'traits', issues)
      break
    case 'track': {
      const name = readText(raw, 'event')
      if (name === undefined || name.trim() === '')
        issues.push({ path: 'event', message: 'event is required for track' })
      else specific.event = name
      specific.properties = readObject(raw, 'properties', issues)
      break
    }
    case 'page':
    case 'screen': {
      const name = readText(raw, 'name')
      const category = readText(raw, 'category')
      if (name !== undefined) specific.name = name
      if (category !== undefined) specific.category = category
      specific.properties = readObject(raw, 'properties', issues)
      break
    }
    case 'group': {
      const groupId = readId(raw, 'groupId', issues)
      if (groupId === undefined) {
        if (!issues.some(i => i.path === 'groupId')) {
          issues.push({ path: 'groupId', message: 'groupId is required for group' })
        }
      } else specific.groupId = groupId
      specific.traits = readObject(raw, 'traits', issues)
      break
    }
    case 'alias': {
      const previousId = readId(raw, 'previousId', issues)
      if (previousId === undefined) {
        if (!issues.some(i => i.path === 'previousId')) {
          issues.push({ path: 'previousId', message: 'previousId is required for alias' })
        }
      } else specific.previousId = previousId
      break
    }
    default:
      break
  }

  if (issues.length > 0) return fail(issues)

  const messageId = readableMessageId ?? (ctx.newMessageId ?? randomUUID)()
  const times = computeTimes(raw, ctx)
  const channel = readText(raw, 'channel')
  const projectId = readText(raw, 'projectId')
  const version = raw.version
  // Assigned in the order of the schema's output, without a temporary object per optional field
  // (this runs for every event of every request).
  const candidate: JsonObject = { type, messageId }
  if (userId !== undefined) candidate.userId = userId
  if (anonymousId !== undefined) candidate.anonymousId = anonymousId
  Object.assign(candidate, specific, times)
  candidate.context = context
  candidate.integrations = integrations
  if (channel !== undefined) candidate.channel = channel
  if (typeof version === 'string' || (typeof version === 'number' && Number.isFinite(version))) {
    candidate.version = version
  }
  if (projectId !== undefined) candidate.projectId = projectId

  const parsed = SegmentEventSchema.safeParse(candidate)
  if (!parsed.success) return fail(zodIssues(parsed.error))
  return { ok: true, event: parsed.data }
}

/**
 * A batch body (`/v1/batch`, `/v1/import`, `/v1/b`): `{ batch: [...], context?, integrations?,
 * sentAt? }`. Only an unusable request as a whole is `ok: false`; each item gets its own result.
 */
export function normalizeBatch(
  body: unknown,
  ctx: Omit<NormalizeContext, 'routeType' | 'batch'>,
): BatchResult {
  if (!isObject(body)) return { ok: false, errors: [{ path: '', message: 'body must be a JSON object' }] }
  const items = body.batch
  if (!Array.isArray(items))
    return { ok: false, errors: [{ path: 'batch', message: 'batch must be an array' }] }
  // Only objects are merged into items, so only they count.
  const merged = [body.context, body.integrations].filter(isObject)
  const bytes = merged.length > 0 ? jsonBytes(merged) : 0
  const batch = { context: body.context, integrations: body.integrations, sentAt: body.sentAt, bytes }
  const itemCtx: NormalizeContext = { ...ctx, batch }
  return { ok: true, results: items.map((item: unknown) => normalizeEvent(item, itemCtx)) }
}
