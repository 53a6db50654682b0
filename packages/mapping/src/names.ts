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
 * The non-ASCII characters whose lower case holds an ASCII letter: `İ` → `i̇`, the Kelvin sign `K` →
 * `k` (a test checks the whole BMP). Every other non-ASCII character separates words.
 */
const LOWER_ASCII: ReadonlyMap<number, number> = new Map([
  [0x130, 0x69],
  [0x212a, 0x6b],
])
const UNDERSCORE = 0x5f

/**
 * The whole snake_case form of a name, however long: accents stripped (`é` → `e`), camelCase split
 * (`firstName` → `first_name`, `HTMLTitle` → `html_title`), lower case, every run of other
 * characters one `_`, no `_` at either end. Empty when the name has no ASCII letter or digit.
 * One pass over the characters, writing bytes (a long name costs no more than its length).
 */
export function snakeCase(name: string): string {
  const text = name.normalize('NFKD').replace(/\p{M}+/gu, '')
  const out = new Uint8Array(text.length * 2)
  let length = 0
  let separator = false
  for (let i = 0; i < text.length; i += 1) {
    let code = text.charCodeAt(i)
    if (isUpper(code)) {
      // `_` before a capital that follows a lower-case letter or a digit (`firstName`), or that ends
      // a run of capitals followed by a lower-case letter (`HTMLTitle` → `HTML_Title`).
      const before = text.charCodeAt(i - 1)
      if (isLower(before) || isDigit(before) || (isUpper(before) && isLower(text.charCodeAt(i + 1))))
        separator = true
      code += 32
    } else if (code >= 128) {
      code = LOWER_ASCII.get(code) ?? UNDERSCORE
    }
    if (isLower(code) || isDigit(code)) {
      if (separator && length > 0) out[length++] = UNDERSCORE
      separator = false
      out[length++] = code
    } else {
      separator = true
    }
  }
  return Buffer.from(out.buffer, 0, length).toString('latin1')
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
  return attributeName(name).nameStd
}

/** `toNameStd`, and whether the snake_case name was longer than 32 characters and so shortened. */
export function attributeName(name: string): { nameStd: string; shortened: boolean } {
  const snake = snakeCase(name)
  return snake.length <= MAX_ATTRIBUTE_NAME_LENGTH
    ? { nameStd: snake, shortened: false }
    : { nameStd: shortened(snake), shortened: true }
}

/** Longer than any reserved trait name written with punctuation (`Gravatar URL`, `phone_number`). */
const MAX_TRAIT_KEY_SOURCE_LENGTH = 64

/**
 * How Segment matches reserved traits (obj-case, segment-spec.md §4.1): case and punctuation do
 * not matter, so `firstName`, `first_name`, `FirstName` and `First Name` are one trait.
 */
export function traitKey(name: string): string {
  // Reserved trait names are short: a longer name is none (its key is itself, unlike every reserved one).
  if (name.length > MAX_TRAIT_KEY_SOURCE_LENGTH) return name
  return name.replace(/[^a-zA-Z0-9]+/g, '').toLowerCase()
}
