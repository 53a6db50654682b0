import type { SimAttribute } from './schema'

// Value rules: what User.com accepts for standard fields and custom attributes (usercom-api.md §2.9,
// §5.1 and the simulator's documented decisions where the reference is silent).

/** Length as Python (User.com's backend) counts it: code points, not UTF-16 units. */
export const charLength = (value: string): number => [...value].length

export const E164 = /^\+[1-9]\d{1,14}$/
const EMAIL = /^[^\s@]+@[^\s@]+$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATETIME_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z$/
const DATETIME_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/

export const isEmail = (value: string): boolean => EMAIL.test(value) && charLength(value) <= 254

function validCalendarDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

export function isDate(value: string): boolean {
  const m = DATE.exec(value)
  return m !== null && validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))
}

export function isDatetimeUtc(value: string): boolean {
  const m = DATETIME_UTC.exec(value)
  return (
    m !== null &&
    validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) &&
    Number(m[4]) < 24 &&
    Number(m[5]) < 60 &&
    Number(m[6]) < 60
  )
}

/** ISO 8601 with `Z` or an offset → epoch ms; undefined when it is not one. */
export function parseIsoDatetime(value: string): number | undefined {
  const m = DATETIME_OFFSET.exec(value)
  if (m === null || !validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/** Latest Unix-seconds timestamp accepted (2100-01-01): larger ones are almost surely milliseconds. */
export const MAX_UNIX_SECONDS = 4_102_444_800

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A fixed attribute takes one of its choices (a list of them with `allow_multiple_choices`). */
function fixedProblem(attribute: SimAttribute, value: unknown): string | undefined {
  const choices = attribute.choices ?? []
  const valid = (item: unknown): boolean => typeof item === 'string' && choices.includes(item)
  const multiple = attribute.allow_multiple_choices === true
  if (valid(value) || (multiple && Array.isArray(value) && value.every(valid))) return undefined
  const what = multiple ? 'one of, or a list of,' : 'one of'
  return `${JSON.stringify(value)} is not a valid choice for attribute "${attribute.name_std}": it takes ${what} ${choices.map(c => JSON.stringify(c)).join(', ')}.`
}

/** Why `value` is not acceptable for `attribute`, or undefined when it is. `null` clears any type. */
export function attributeValueProblem(attribute: SimAttribute, value: unknown): string | undefined {
  if (value === null) return undefined
  switch (attribute.value_type) {
    case 'string':
      if (typeof value !== 'string') return 'Not a valid string.'
      return charLength(value) > 255 ? 'Ensure this field has no more than 255 characters.' : undefined
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value)
        ? undefined
        : 'A valid integer is required.'
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'A valid number is required.'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'Must be a valid boolean.'
    case 'date':
      return typeof value === 'string' && isDate(value) ? undefined : 'Date has wrong format. Use YYYY-MM-DD.'
    case 'datetime':
      return typeof value === 'string' && isDatetimeUtc(value)
        ? undefined
        : 'Datetime has wrong format. Use ISO 8601 UTC: YYYY-MM-DDTHH:mm:ss(.sss)Z.'
    case 'fixed':
      return fixedProblem(attribute, value)
    case 'json':
      return isPlainObject(value) || Array.isArray(value) ? undefined : 'Must be a JSON object or array.'
  }
}

export { isPlainObject }
