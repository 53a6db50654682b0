// Attribute names. User.com keys custom attributes by `name_std`, the snake_case form of the
// display name (usercom-api.md §5.1); names are at most 32 characters.

/** User.com's limit for an attribute name (and so for `name_std`). */
export const MAX_ATTRIBUTE_NAME_LENGTH = 32

/**
 * The `name_std` of an attribute name: accents stripped (`é` → `e`), camelCase split
 * (`firstName` → `first_name`, `HTMLTitle` → `html_title`), lower case, every run of other
 * characters one `_`, no `_` at either end, cut to 32 characters. Idempotent:
 * `toNameStd(toNameStd(x)) === toNameStd(x)`. Empty when the name has no ASCII letter or digit.
 */
export function toNameStd(name: string): string {
  const snake = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return snake.slice(0, MAX_ATTRIBUTE_NAME_LENGTH).replace(/_+$/, '')
}

/**
 * How Segment matches reserved traits (obj-case, segment-spec.md §4.1): case and punctuation do
 * not matter, so `firstName`, `first_name`, `FirstName` and `First Name` are one trait.
 */
export function traitKey(name: string): string {
  return name.replace(/[^a-zA-Z0-9]+/g, '').toLowerCase()
}
