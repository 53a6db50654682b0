// Lenient date parsing for what real Segment clients send. Never throws: a value that does not
// parse is `undefined`, and the caller falls back (normalisation uses `receivedAt`).
//
// Accepted:
// - ISO 8601 / RFC 3339, with any number of fraction digits (nanoseconds are cut to milliseconds):
//   `2024-05-03T19:42:50.066179717Z`
// - unpadded fields: `2015-2-02T00:30:08.276Z`, `2015-2-2T0:30:8Z`
// - a space instead of `T`, a date only (`2015-02-02`, midnight UTC), no zone (UTC assumed)
// - zones `Z`, `UTC`, `GMT`, `+05:30`, `+0530`, `+05`
// - Go's time.Time String(): `2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264`
// - numbers: Unix time in seconds (absolute value below 1e11) or else milliseconds
// Years are kept within 0000..9999 so the result always prints as a plain ISO 8601 string.

const DATE_RE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?(?:\s+[A-Z]{2,5})?(?:\s+m=[+-]?[\d.]+)?$/i

/**
 * Longer strings are not dates (Go's form above, the longest, is about 60 characters). Checked before
 * DATE_RE, whose overlapping `\s*`/`\s+` would otherwise take quadratic time on a long hostile string.
 */
export const MAX_DATE_STRING_LENGTH = 100

const MIN_MS = (() => {
  const d = new Date(0)
  d.setUTCFullYear(0, 0, 1)
  d.setUTCHours(0, 0, 0, 0)
  return d.getTime()
})()
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** Seconds below this (in absolute value) are Unix seconds; above, milliseconds. */
const SECONDS_LIMIT = 1e11

function inRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS
}

function daysInMonth(year: number, month: number): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month, 0)
  return d.getUTCDate()
}

function parseOffsetMinutes(zone: string | undefined): number {
  if (zone === undefined) return 0
  const upper = zone.toUpperCase()
  if (upper === 'Z' || upper === 'UTC' || upper === 'GMT') return 0
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const hours = Number(digits.slice(0, 2))
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
  return sign * (hours * 60 + minutes)
}

/**
 * What SDKs send most (`Date.prototype.toISOString()`), with a day that exists in every month (so
 * Date.parse cannot roll it over): read natively, 5x faster than the general path, same result.
 */
const CANONICAL_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/

// The last date parsed from a canonical string and the last one formatted: the same instants come
// back at once (an event's timestamp and originalTimestamp, a request's receivedAt), and
// toISOString() is the slowest step of normalising an event.
let parsedMs = Number.NaN
let parsedIso = ''
let formattedMs = Number.NaN
let formattedIso = ''

function parseDateString(input: string): number | undefined {
  if (input.length === 24 && CANONICAL_RE.test(input)) {
    const ms = Date.parse(input)
    if (inRange(ms)) {
      parsedMs = ms
      parsedIso = input
      return ms
    }
  }
  if (input.length > MAX_DATE_STRING_LENGTH) return undefined
  const m = DATE_RE.exec(input.trim())
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = m[4] === undefined ? 0 : Number(m[4])
  const minute = m[5] === undefined ? 0 : Number(m[5])
  const second = m[6] === undefined ? 0 : Number(m[6])
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 60) return undefined
  const offset = parseOffsetMinutes(m[8])
  if (Math.abs(offset) > 18 * 60) return undefined
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  // A leap second (:60) becomes the next second, as Date would do.
  d.setUTCHours(hour, minute, second, millis)
  const ms = d.getTime() - offset * 60_000
  return inRange(ms) ? ms : undefined
}

/** Epoch milliseconds of a Segment date value, or `undefined` when it does not parse. */
export function parseDateValue(value: unknown): number | undefined {
  if (typeof value === 'string') return parseDateString(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined
    const ms = Math.abs(value) < SECONDS_LIMIT ? value * 1000 : value
    const rounded = Math.round(ms)
    return inRange(rounded) ? rounded : undefined
  }
  return undefined
}

/** ISO 8601 UTC with milliseconds (`2015-02-02T00:30:08.276Z`), or `undefined`. */
export function parseDate(value: unknown): string | undefined {
  const ms = parseDateValue(value)
  return ms === undefined ? undefined : new Date(ms).toISOString()
}

/** Epoch milliseconds to ISO, clamped into the printable range (never throws). */
export function toIsoClamped(ms: number): string {
  const safe = Number.isFinite(ms) ? Math.min(Math.max(ms, MIN_MS), MAX_MS) : 0
  if (safe === parsedMs) return parsedIso
  if (safe === formattedMs) return formattedIso
  formattedIso = new Date(safe).toISOString()
  formattedMs = safe
  return formattedIso
}
