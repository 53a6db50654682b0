// TEMPORARY stand-in for packages/segment's normaliser (being written on feat/segment-mapping), with
// the agreed API. Removed when that branch is merged.
import { randomUUID } from 'node:crypto'
import {
  MAX_EVENT_BYTES,
  SegmentEventSchema,
  type EventType,
  type SegmentEvent,
  type ValidationIssue,
} from '@ucd/segment'

export interface NormalizeContext {
  receivedAt: Date
  routeType?: EventType
  batch?: { context?: unknown; integrations?: unknown; sentAt?: unknown }
  newMessageId?: () => string
}
export type NormalizeResult =
  | { ok: true; event: SegmentEvent }
  | { ok: false; errors: ValidationIssue[]; type?: string; messageId?: string }
export type BatchResult = { ok: true; results: NormalizeResult[] } | { ok: false; errors: ValidationIssue[] }

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const iso = (v: unknown): string | undefined => {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}
const id = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined

export function normalizeEvent(raw: unknown, ctx: NormalizeContext): NormalizeResult {
  if (!isObject(raw)) return { ok: false, errors: [{ path: '', message: 'must be an object' }] }
  const type = typeof raw.type === 'string' ? raw.type : undefined
  const messageId = typeof raw.messageId === 'string' ? raw.messageId : undefined
  if (Buffer.byteLength(JSON.stringify(raw)) > MAX_EVENT_BYTES) {
    return { ok: false, errors: [{ path: '', message: 'Exceed payload limit' }], type, messageId }
  }
  const { writeKey: _w, ...rest } = raw
  const receivedAt = ctx.receivedAt.toISOString()
  const original = iso(rest.timestamp)
  const sentAt = iso(rest.sentAt) ?? iso(ctx.batch?.sentAt)
  const candidate = {
    ...rest,
    type: ctx.routeType ?? type,
    messageId: messageId ?? (ctx.newMessageId ?? randomUUID)(),
    userId: id(rest.userId),
    anonymousId: id(rest.anonymousId),
    timestamp: original ?? receivedAt,
    originalTimestamp: original,
    sentAt,
    receivedAt,
    context: {
      ...(isObject(ctx.batch?.context) ? ctx.batch.context : {}),
      ...(isObject(rest.context) ? rest.context : {}),
    },
    integrations: {
      ...(isObject(ctx.batch?.integrations) ? ctx.batch.integrations : {}),
      ...(isObject(rest.integrations) ? rest.integrations : {}),
    },
    properties: isObject(rest.properties) ? rest.properties : {},
    traits: isObject(rest.traits) ? rest.traits : {},
  }
  const parsed = SegmentEventSchema.safeParse(candidate)
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map(i => ({ path: i.path.join('.'), message: i.message })),
      type,
      messageId,
    }
  }
  return { ok: true, event: parsed.data }
}

export function normalizeBatch(
  body: unknown,
  ctx: { receivedAt: Date; newMessageId?: () => string },
): BatchResult {
  if (!isObject(body) || !Array.isArray(body.batch)) {
    return { ok: false, errors: [{ path: 'batch', message: 'must be an array of events' }] }
  }
  const batch = { context: body.context, integrations: body.integrations, sentAt: body.sentAt }
  return { ok: true, results: (body.batch as unknown[]).map(item => normalizeEvent(item, { ...ctx, batch })) }
}

export function isEnabled(event: { integrations: Record<string, unknown> }): boolean {
  const own = event.integrations['User.com'] ?? event.integrations['Usercom']
  if (own !== undefined) return own !== false
  const all = event.integrations.All ?? event.integrations.all
  return all !== false
}
