import { createHash } from 'node:crypto'

// Attribute names. User.com keys custom attributes by `name_std`, the snake_case form of the
// display name (usercom-api.md §5.1); names are at most 32 characters. Every function here is one
// pass over its input (no backtracking regular expression): trait names come from clients.

/** User.com's limit for an attribute name (and so for `name_std`). */
export const MAX_ATTRIBUTE_NAME_LENGTH = 32
/** A longer snake_case name keeps this many characters, then `_` and SHORT_HASH_LENGTH hex digits. */
export const SHORT_NAME_PREFIX_LENGTH = 25
const SHORT_HASH_LENGTH = 6

const isUpper = (code: number): boolean => code >= 65 && code <= 90
const isLower = (code: number): boolean => code >= 97 && code <= 122
const isDigit = (code: number): boolean => code >= 48 && code <= 57

/**
 * The whole snake_case form of a name, however long: accents stripped (`é` → `e`), camelCase split
 * (`firstName` → `first_name`, `HTMLTitle` → `html_title`), lower case, every run of other
 * characters one `_`, no `_` at either end. Empty when the name has no ASCII letter or digit.
 */
export function snakeCase(name: string): string {
  const text = name.normalize('NFKD').replace(/\p{M}+/gu, '')
  // `_` before a capital that follows a lower-case letter or a digit (`firstName`), or that ends a
  // run of capitals followed by a lower-case letter (`HTMLTitle` → `HTML_Title`).
  const parts: string[] = []
  let from = 0
  for (let i = 1; i < text.length; i += 1) {
    if (!isUpper(text.charCodeAt(i))) continue
    const before = text.charCodeAt(i - 1)
    if (isLower(before) || isDigit(before) || (isUpper(before) && isLower(text.charCodeAt(i + 1)))) {
      parts.push(text.slice(from, i), '_')
      from = i
    }
  }
  parts.push(text.slice(from))
  const lower = parts.join('').toLowerCase()
  // Runs of anything but a-z and 0-9 become one `_`; none at either end.
  let out = ''
  let start = -1
  let pendingSeparator = false
  for (let i = 0; i < lower.length; i += 1) {
    const code = lower.charCodeAt(i)
    if (isLower(code) || isDigit(code)) {
      if (start === -1) {
        if (pendingSeparator && out !== '') out += '_'
        pendingSeparator = false
        start = i
      }
    } else {
      if (start !== -1) {
        out += lower.slice(start, i)
        start = -1
      }
      pendingSeparator = true
    }
  }
  if (start !== -1) out += lower.slice(start)
  return out
}

/**
 * A snake_case name longer than 32 characters, made unique and short: its first 25 characters (no
 * `_` at the end), `_`, and the first 6 hex digits of the SHA-256 of the whole name
 * (`order_completed_last_30days_high_value_customers` → `order_completed_last_30da_5c2f6e`).
 */
function shortened(snake: string): string {
  let prefix = snake.slice(0, SHORT_NAME_PREFIX_LENGTH)
  while (prefix.endsWith('_')) prefix = prefix.slice(0, -1)
  const hash = createHash('sha256').update(snake).digest('hex').slice(0, SHORT_HASH_LENGTH)
  return `${prefix}_${hash}`
}

/**
 * The `name_std` of an attribute name: its snake_case form (`snakeCase`); one longer than 32
 * characters is shortened with a hash of the whole name, so two long names that share their first
 * 32 characters stay two attributes. At most 32 characters, idempotent
 * (`toNameStd(toNameStd(x)) === toNameStd(x)`), empty when the name has no ASCII letter or digit.
 */
export function toNameStd(name: string): string {
  const snake = snakeCase(name)
  return snake.length <= MAX_ATTRIBUTE_NAME_LENGTH ? snake : shortened(snake)
}

/**
 * How Segment matches reserved traits (obj-case, segment-spec.md §4.1): case and punctuation do
 * not matter, so `firstName`, `first_name`, `FirstName` and `First Name` are one trait.
 */
export function traitKey(name: string): string {
  return name.replace(/[^a-zA-Z0-9]+/g, '').toLowerCase()
}
