// User.com's `name_std` of an attribute name (usercom-api.md §5.1: "`name_std` = snake-cased name",
// "API string attribute" → "api_string_attribute"). The simulator's own model, written from the
// reference alone: one pass over the characters, no regular expression on the name.

const COMBINING_MARK = /^\p{M}$/u

const isLower = (c: string): boolean => c >= 'a' && c <= 'z'
const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z'
const isDigit = (c: string): boolean => c >= '0' && c <= '9'

/**
 * The snake case of an attribute name: accents stripped (`é` → `e`), lower case, a word break
 * before a capital that follows a lower-case letter or digit (`favoriteColor` → `favorite_color`)
 * or that starts a word after an acronym (`HTMLTitle` → `html_title`), every run of other
 * characters one `_`, none at either end. Empty when the name has no ASCII letter or digit.
 * Linear in the length of the name.
 */
export function nameStd(name: string): string {
  const chars = [...name.normalize('NFKD')].filter(c => !COMBINING_MARK.test(c))
  let out = ''
  let pendingBreak = false
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i] ?? ''
    if (!isLower(c) && !isUpper(c) && !isDigit(c)) {
      if (out.length > 0) pendingBreak = true
      continue
    }
    if (isUpper(c) && out.length > 0) {
      const prev = chars[i - 1] ?? ''
      const next = chars[i + 1] ?? ''
      if (isLower(prev) || isDigit(prev) || (isUpper(prev) && isLower(next))) pendingBreak = true
    }
    if (pendingBreak) out += '_'
    pendingBreak = false
    out += c.toLowerCase()
  }
  return out
}
