import type { Dropped } from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'

// Field clocks: when the value a field holds in User.com was written, as the event time of the event
// that wrote it and its messageId (the tie-break: deterministic, the same in every worker and in the
// Lua script of field-clocks.ts, which compares the same way byte by byte).

/** The event time (epoch ms) and messageId of the event that wrote a value. */
export interface Clock {
  timeMs: number
  messageId: string
}

/** What a delivery reports for a value a newer event already wrote (the `dropped` reason). */
export const STALE_REASON = 'stale'

/**
 * An event's clock: its normalised `timestamp` (skew-corrected, a future one clamped to `receivedAt`
 * by packages/segment), else `receivedAt`, else 0.
 */
export function eventClock(event: Pick<SegmentEvent, 'timestamp' | 'receivedAt' | 'messageId'>): Clock {
  const parsed = Date.parse(event.timestamp)
  const fallback = Date.parse(event.receivedAt)
  const timeMs = Number.isFinite(parsed) ? parsed : Number.isFinite(fallback) ? fallback : 0
  return { timeMs: Math.max(0, Math.trunc(timeMs)), messageId: event.messageId }
}

/** `<eventTimeMs>:<messageId>`, as stored in the clock hash. */
export function formatClock(clock: Clock): string {
  return `${clock.timeMs}:${clock.messageId}`
}

/** A stored clock; undefined when unreadable (then it is ignored: the value is sent). */
export function parseClock(text: string): Clock | undefined {
  const colon = text.indexOf(':')
  if (colon <= 0) return undefined
  const head = text.slice(0, colon)
  if (!/^\d+$/.test(head)) return undefined
  return { timeMs: Number(head), messageId: text.slice(colon + 1) }
}

/** Byte order of the UTF-8 encodings (what the Lua script compares): the same answer everywhere. */
function compareBytes(a: string, b: string): number {
  return Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer. */
export function compareClocks(a: Clock, b: Clock): number {
  if (a.timeMs !== b.timeMs) return a.timeMs < b.timeMs ? -1 : 1
  return compareBytes(a.messageId, b.messageId)
}

/**
 * Whether a value from `incoming` must not be sent because `stored` is newer. The same event again
 * (equal clocks: a retry, a replay after the value landed) is not stale: sending it changes nothing.
 */
export function isStale(incoming: Clock, stored: string | undefined | null): boolean {
  if (stored === undefined || stored === null) return false
  const parsed = parseClock(stored)
  return parsed !== undefined && compareClocks(parsed, incoming) > 0
}

/** A body with the fields a newer event wrote taken out, and those fields as `stale` drops. */
export interface Filtered {
  body: Record<string, unknown>
  stale: Dropped[]
}

/**
 * Takes the `stale` fields (those a newer event wrote) out of a body and reports them; `where`
 * prefixes the report (`user` → `user.email`).
 */
export function dropStale(
  body: Record<string, unknown>,
  stale: ReadonlySet<string>,
  where: string,
): Filtered {
  const kept: Record<string, unknown> = {}
  const dropped: Dropped[] = []
  for (const [field, value] of Object.entries(body)) {
    if (stale.has(field)) dropped.push({ field: `${where}.${field}`, reason: STALE_REASON })
    else kept[field] = value
  }
  return { body: kept, stale: dropped }
}
