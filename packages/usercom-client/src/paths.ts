import { UsercomInvalidPathError, UsercomRejectedError } from './errors'
import type { UsercomEndpoint } from './api'

// Ids that go into a request path: encoded, and refused before any request when they would change it.

/** A path segment: every character that is not unreserved is percent-encoded (`/`, `+`, `#`, ` `, `%`, ...). */
export const encodePathSegment = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * Why `value` may not go into a request path, or undefined when it may: `.` and `..` (a URL resolver
 * collapses them: `companies-by-id/../` is `PUT /api/public/`), empty, or with a character a proxy or
 * server may decode or cut at (`/`, `\\`, `?`, `#`, `%`, control characters), even when encoded.
 */
export function unsafePathReason(value: string): string | undefined {
  if (value === '') return 'an empty id'
  if (value === '.' || value === '..') return `the id "${value}" (a dot segment)`
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  const bad = /[/\\?#%\u0000-\u001f\u007f]/.exec(value)
  if (bad !== null) return `an id containing ${JSON.stringify(bad[0])}`
  return undefined
}

/** `value` as one path segment, or a UsercomInvalidPathError (before any request) when it is unsafe. */
export const customIdSegment = (value: string, endpoint: UsercomEndpoint): string => {
  const reason = unsafePathReason(value)
  if (reason !== undefined) throw new UsercomInvalidPathError({ endpoint }, reason)
  return encodePathSegment(value)
}

export const idSegment = (id: number, endpoint: UsercomEndpoint): string => {
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new UsercomRejectedError({ endpoint, response: `not an id: ${String(id)}` })
  return String(id)
}
