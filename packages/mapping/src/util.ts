import { traitKey } from './names'

import { isObject, type JsonObject } from '@ucd/segment'

export { isObject }
export type { JsonObject }

/** Non-blank text (numbers become strings), trimmed; undefined otherwise. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim()
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/** The first value of an object whose key is one of `keys` in obj-case (`postal_code` ≈ `postalCode`). */
export function pick(object: JsonObject, ...keys: string[]): unknown {
  for (const [key, value] of Object.entries(object)) {
    if (keys.includes(traitKey(key))) return value
  }
  return undefined
}

/** Longest email address (RFC 5321 path limit). */
const MAX_EMAIL_LENGTH = 254

/**
 * `local@domain.tld` as `/^[^\s@]+@[^\s@]+\.[^\s@]+$/` reads it (no white space, one `@`, a `.` in the
 * domain with something on each side), in one pass: that pattern backtracks on a long domain.
 */
export function isEmailShaped(text: string): boolean {
  if (/\s/.test(text)) return false
  const at = text.indexOf('@')
  if (at < 1 || text.indexOf('@', at + 1) !== -1) return false
  const domain = text.slice(at + 1)
  const dot = domain.indexOf('.', 1)
  return dot !== -1 && dot < domain.length - 1
}

/** A string shaped like an email address (User.com validates emails; one bad value must not fail a call). */
export function emailOf(value: unknown): string | undefined {
  const text = textOf(value)
  return text !== undefined && text.length <= MAX_EMAIL_LENGTH && isEmailShaped(text) ? text : undefined
}

/**
 * Zone names checked so far (a few hundred exist; bounded anyway): building an Intl.DateTimeFormat
 * costs about 0.5 ms, and the answer for a name never changes in a process, so plans stay pure.
 */
const ZONES = new Map<string, boolean>()
const MAX_ZONES = 1000
/** IANA zone names have at most 32 characters (`America/Argentina/ComodRivadavia`); over 64 is not looked up. */
const MAX_ZONE_LENGTH = 64

function knownZone(text: string): boolean {
  const cached = ZONES.get(text)
  if (cached !== undefined) return cached
  let known: boolean
  try {
    known = new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone !== ''
  } catch (_error) {
    known = false
  }
  if (ZONES.size >= MAX_ZONES) ZONES.clear()
  ZONES.set(text, known)
  return known
}

/** An IANA time zone name the runtime knows (`Europe/Warsaw`), or undefined. */
export function timezoneOf(value: unknown): string | undefined {
  const text = textOf(value)
  return text !== undefined && text.length <= MAX_ZONE_LENGTH && knownZone(text) ? text : undefined
}

/** `text` parsed as an absolute http(s) URL, or undefined. */
export function httpUrl(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
  } catch (_error) {
    return undefined
  }
}

/** An absolute http(s) URL, as given, or undefined. */
export function httpUrlOf(value: unknown): string | undefined {
  const text = textOf(value)
  return httpUrl(text) === undefined ? undefined : text
}
