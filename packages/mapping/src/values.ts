import { parseDate } from '@ucd/segment'
import type { AttributeDef, AttributeValueType } from './operations'

// Converting a Segment value to what a User.com custom attribute of a given value type takes
// (packages/usercom-client/WIRE.md): string ≤ 255 characters, integer, float, boolean, date "YYYY-MM-DD", datetime ISO
// 8601 UTC, fixed (one of the choices), json (object or array). `null` clears any type and is
// handled by the caller. A value that cannot be converted is refused with a reason; nothing here
// throws.
//
// Nested values (objects and arrays), the one rule for every attribute:
// - `json` attribute: sent as is (a string holding a JSON object or array is parsed);
// - `string` attribute (and every attribute this destination creates, which is `string`): its
//   compact JSON text, when that fits in 255 characters, else dropped;
// - any other type: dropped (a nested value is not an integer, a date, ...).

/** User.com's limit for a string attribute value. */
export const MAX_STRING_VALUE_LENGTH = 255

export type Conversion = { ok: true; value: unknown; note?: string } | { ok: false; reason: string }

// One backtracking path only (anchored, `\.` after `\d+`): linear in the input.
const INTEGER_RE = /^[+-]?\d+(?:\.0*)?$/
const DATE_ONLY_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/
const TRUE_WORDS = new Set(['true', 'yes', '1'])
const FALSE_WORDS = new Set(['false', 'no', '0'])

function isNested(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

/** Cut to `max` UTF-16 units without splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  const cut = text.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

/** JSON text of a value, or undefined when it has none (undefined, functions) or cannot be printed. */
function jsonText(value: unknown): string | undefined {
  try {
    const text: unknown = JSON.stringify(value)
    return typeof text === 'string' ? text : undefined
  } catch (_error) {
    return undefined
  }
}

function toStringValue(value: unknown): Conversion {
  if (typeof value === 'string') {
    const cut = truncate(value, MAX_STRING_VALUE_LENGTH)
    return cut === value
      ? { ok: true, value }
      : { ok: true, value: cut, note: `truncated to ${MAX_STRING_VALUE_LENGTH} characters` }
  }
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? { ok: true, value: String(value) }
      : { ok: false, reason: 'not a finite number' }
  }
  if (typeof value === 'boolean') return { ok: true, value: String(value) }
  if (isNested(value)) {
    const text = jsonText(value)
    if (text === undefined) return { ok: false, reason: 'cannot be written as JSON' }
    if (text.length > MAX_STRING_VALUE_LENGTH) {
      return {
        ok: false,
        reason: `JSON text longer than ${MAX_STRING_VALUE_LENGTH} characters for a string attribute`,
      }
    }
    return { ok: true, value: text }
  }
  return { ok: false, reason: 'not a string, number, boolean, object or array' }
}

function toInteger(value: unknown): Conversion {
  let n: number | undefined
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && INTEGER_RE.test(value.trim())) n = Number(value.trim())
  if (n !== undefined && Number.isSafeInteger(n)) return { ok: true, value: n === 0 ? 0 : n }
  return { ok: false, reason: 'not an integer' }
}

const isDigitAt = (text: string, i: number): boolean => {
  const code = text.charCodeAt(i)
  return code >= 48 && code <= 57
}

/**
 * A decimal number as written by people and JSON: `[+-]` digits, an optional `.` and digits (at least
 * one digit in all), an optional exponent (`e` or `E`, `[+-]`, digits): `14.99`, `.5`, `1.`, `-1e3`.
 * One pass (the regular expression it replaces, `\d+\.?\d*`, backtracked quadratically on a long run
 * of digits that ended in something else).
 */
export function isDecimalText(text: string): boolean {
  let i = 0
  if (text[i] === '+' || text[i] === '-') i += 1
  const intStart = i
  while (isDigitAt(text, i)) i += 1
  let digits = i - intStart
  if (text[i] === '.') {
    i += 1
    const fractionStart = i
    while (isDigitAt(text, i)) i += 1
    digits += i - fractionStart
  }
  if (digits === 0) return false
  if (text[i] === 'e' || text[i] === 'E') {
    i += 1
    if (text[i] === '+' || text[i] === '-') i += 1
    const exponentStart = i
    while (isDigitAt(text, i)) i += 1
    if (i === exponentStart) return false
  }
  return i === text.length
}

function toFloat(value: unknown): Conversion {
  let n: number | undefined
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && isDecimalText(value.trim())) n = Number(value.trim())
  if (n !== undefined && Number.isFinite(n)) return { ok: true, value: n === 0 ? 0 : n }
  return { ok: false, reason: 'not a number' }
}

function toBoolean(value: unknown): Conversion {
  if (typeof value === 'boolean') return { ok: true, value }
  if (value === 1 || value === 0) return { ok: true, value: value === 1 }
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase()
    if (TRUE_WORDS.has(word)) return { ok: true, value: true }
    if (FALSE_WORDS.has(word)) return { ok: true, value: false }
  }
  return { ok: false, reason: 'not a boolean' }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function toDate(value: unknown): Conversion {
  const iso = parseDate(value)
  if (iso === undefined) return { ok: false, reason: 'not a date' }
  // A plain date is kept as written (no time zone can move it to another day).
  const m = typeof value === 'string' ? DATE_ONLY_RE.exec(value.trim()) : null
  if (m !== null) return { ok: true, value: `${m[1]}-${pad(Number(m[2]), 2)}-${pad(Number(m[3]), 2)}` }
  return { ok: true, value: iso.slice(0, 10) }
}

function toDatetime(value: unknown): Conversion {
  const iso = parseDate(value)
  return iso === undefined ? { ok: false, reason: 'not a date-time' } : { ok: true, value: iso }
}

function toFixed(value: unknown, choices: readonly string[] | undefined): Conversion {
  let text: string | undefined
  if (typeof value === 'string') text = value
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value)
  else if (typeof value === 'boolean') text = String(value)
  if (text === undefined) return { ok: false, reason: 'not one of the choices' }
  // Without known choices (GET /attributes/ does not list them) User.com decides.
  if (choices === undefined || choices.length === 0) return toStringValue(text)
  if (choices.includes(text)) return { ok: true, value: text }
  const wanted = text.trim().toLowerCase()
  const match = choices.find(choice => choice.trim().toLowerCase() === wanted)
  return match === undefined ? { ok: false, reason: 'not one of the choices' } : { ok: true, value: match }
}

function toJson(value: unknown): Conversion {
  if (isNested(value)) {
    const text = jsonText(value)
    return text === undefined ? { ok: false, reason: 'cannot be written as JSON' } : { ok: true, value }
  }
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value)
      if (isNested(parsed)) return { ok: true, value: parsed }
    } catch (_error) {
      // not JSON: refused below
    }
  }
  return { ok: false, reason: 'not a JSON object or array' }
}

/** Convert a (non-null) value to what an attribute of `valueType` takes. */
export function convertValue(
  value: unknown,
  valueType: AttributeValueType,
  choices?: readonly string[],
): Conversion {
  switch (valueType) {
    case 'string':
      return toStringValue(value)
    case 'integer':
      return toInteger(value)
    case 'float':
      return toFloat(value)
    case 'boolean':
      return toBoolean(value)
    case 'date':
      return toDate(value)
    case 'datetime':
      return toDatetime(value)
    case 'fixed':
      return toFixed(value, choices)
    case 'json':
      return toJson(value)
    default:
      return { ok: false, reason: 'unknown value type' }
  }
}

/** Convert a value for a defined attribute (its value type and, for `fixed`, its choices). */
export function convertAttributeValue(
  value: unknown,
  def: Pick<AttributeDef, 'valueType' | 'choices'>,
): Conversion {
  if (value === null) return { ok: true, value: null }
  return convertValue(value, def.valueType, def.choices)
}
