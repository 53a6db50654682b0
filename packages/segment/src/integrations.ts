// The integrations object (segment-spec.md §6): destination name → true / false / options object.
// Resolution follows Segment's facade `enabled(name)`:
//   all = integrations.All (any case; boolean) ?? true
//   enabled = all, unless one of this destination's names is a key: then a boolean value decides,
//   and any other value (an options object, null, ...) means enabled.

/** How this destination may be named in the integrations object (the doc lists all three). */
export const DESTINATION_NAMES: readonly string[] = ['User.com', 'UserEngage', '“User.com”']

/** Segment's obj-case key normalisation: `"User.com"`, `"user.com"` and `"“User.com”"` are one key. */
function normalizeKey(key: string): string {
  return key.replace(/[^a-zA-Z0-9.]+/g, '').toLowerCase()
}

const OUR_KEYS = new Set(DESTINATION_NAMES.map(normalizeKey))

function readAll(integrations: Record<string, unknown>): boolean {
  const exact = integrations.All
  if (typeof exact === 'boolean') return exact
  for (const [key, value] of Object.entries(integrations)) {
    if (key.toLowerCase() === 'all' && typeof value === 'boolean') return value
  }
  return true
}

/**
 * Whether this event is meant for the User.com destination. `All` (any case) is the default for
 * names not listed; `User.com`, `UserEngage` or `“User.com”` (matched case- and punctuation-
 * insensitively) override it: `false` disables, `true` or an options object enables. When
 * several of our names are present and disagree, `false` wins (an opt-out is never ignored).
 */
export function isEnabled(event: { integrations: Record<string, unknown> }): boolean {
  const integrations = event.integrations
  let named: boolean | undefined
  for (const [key, value] of Object.entries(integrations)) {
    if (!OUR_KEYS.has(normalizeKey(key))) continue
    const on = typeof value === 'boolean' ? value : true
    named = named === undefined ? on : named && on
  }
  return named ?? readAll(integrations)
}
