import type { FieldErrors } from './field-errors'

// The failure taxonomy of design.md, decided once, here at the HTTP boundary. Every failure of a
// User.com call is one of these classes; the worker switches on `kind` (or `code`), never on text.

/** What the worker does with a failure (design.md, Failure taxonomy): the kinds, declared here only. */
export const USERCOM_ERROR_KINDS = [
  'rate_limited',
  'retryable',
  'forbidden',
  'unauthorized',
  'rejected',
  /** Refused before any request: the call cannot be made as intended (an id unsafe in a path). */
  'invalid',
] as const
export type UsercomErrorKind = (typeof USERCOM_ERROR_KINDS)[number]

/**
 * The kinds that are dead-lettered at once, each under its own name as the DLQ reason (`@ucd/queue`
 * derives its `DeadLetterReason` from these, plus its own `exhausted` and `invalid`).
 */
export const DEAD_LETTER_KINDS = [
  'forbidden',
  'unauthorized',
  'rejected',
  'invalid',
] as const satisfies readonly UsercomErrorKind[]

/** Stable error codes. */
export const USERCOM_ERROR_CODES = {
  /** 429 */
  RATE_LIMITED: 'UC_ERR_RATE_LIMITED',
  /** 408, 423, 5xx except 501/505 */
  SERVER: 'UC_ERR_SERVER',
  /** No response within the per-request timeout. */
  TIMEOUT: 'UC_ERR_TIMEOUT',
  /** Connection refused, reset, dropped, DNS failure, ... */
  NETWORK: 'UC_ERR_NETWORK',
  /** A 2xx whose body is not what the API documents (or a `next` link to another host). */
  BAD_RESPONSE: 'UC_ERR_BAD_RESPONSE',
  /** 403 */
  FORBIDDEN: 'UC_ERR_FORBIDDEN',
  /** 401 */
  UNAUTHORIZED: 'UC_ERR_UNAUTHORIZED',
  /** 400, 413, 422, 501, 505, 3xx and every other status not listed above */
  REJECTED: 'UC_ERR_REJECTED',
  /** 404 on a write (an unknown user id, company, ...): rejected, but the executor re-resolves once. */
  NOT_FOUND: 'UC_ERR_NOT_FOUND',
  /** An id that would change the request path (`.`, `..`, `/`, `?`, `#`, `%`, ...): never sent. */
  INVALID_PATH: 'UC_ERR_INVALID_PATH',
  /** The tenant's own request rate limit would make this request wait too long: put it back instead. */
  THROTTLED: 'UC_ERR_THROTTLED',
} as const
export type UsercomErrorCode = (typeof USERCOM_ERROR_CODES)[keyof typeof USERCOM_ERROR_CODES]

/** Longest part of a response body kept: on an error, and so in a dead-letter record. The one limit. */
export const MAX_ERROR_RESPONSE_CHARS = 2048
const TRUNCATION_MARK = '…[truncated]'
/** Longest text `truncateResponse` returns (the kept part and the mark): the bound a DLQ record checks. */
export const MAX_RESPONSE_TEXT_LENGTH = MAX_ERROR_RESPONSE_CHARS + TRUNCATION_MARK.length

/**
 * A response body cut to MAX_ERROR_RESPONSE_CHARS, marked `…[truncated]` when cut. The one truncation
 * of response bodies; idempotent (a truncated text comes back as it is), so any holder may apply it.
 */
export function truncateResponse(text: string): string {
  if (text.length <= MAX_ERROR_RESPONSE_CHARS) return text
  return `${text.slice(0, MAX_ERROR_RESPONSE_CHARS)}${TRUNCATION_MARK}`
}

export interface UsercomErrorDetails {
  /** Route template of the call, e.g. `POST /events/`. */
  endpoint: string
  status?: number
  /** Response body, truncated and with secrets removed. */
  response?: string
  /** A 400's body named these fields (field-errors.ts), read from the whole scrubbed body. */
  fieldErrors?: FieldErrors
}

/** Base class of every User.com failure. Holds no request config, headers or API key. */
export abstract class UsercomError extends Error {
  abstract readonly kind: UsercomErrorKind
  abstract readonly code: UsercomErrorCode
  readonly endpoint: string
  readonly status: number | undefined
  readonly response: string | undefined
  /**
   * True when the request may have reached User.com and taken effect although no success came back
   * (a timeout, a connection lost after sending, a 5xx, a 2xx with an unreadable body): a write that
   * failed so is "in doubt" and is looked up before it is repeated. False when it surely had no effect.
   */
  abstract readonly inDoubt: boolean

  constructor(message: string, details: UsercomErrorDetails) {
    super(message)
    this.name = new.target.name
    Object.setPrototypeOf(this, new.target.prototype)
    this.endpoint = details.endpoint
    this.status = details.status
    this.response = details.response
  }
}

/** 429: pause for `retryAfterMs` (undefined when the response had no usable Retry-After). */
export class UsercomRateLimitedError extends UsercomError {
  readonly kind = 'rate_limited'
  readonly code = USERCOM_ERROR_CODES.RATE_LIMITED
  readonly inDoubt = false
  constructor(
    details: UsercomErrorDetails,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`${details.endpoint} was rate limited (429)`, details)
  }
}

/** 408, 423 and 5xx except 501/505: retry with backoff. A 5xx is in doubt (502/504: a gateway gave up). */
export class UsercomServerError extends UsercomError {
  readonly kind = 'retryable'
  readonly code = USERCOM_ERROR_CODES.SERVER
  readonly inDoubt: boolean
  constructor(details: UsercomErrorDetails & { status: number }) {
    super(`${details.endpoint} failed with ${details.status}`, details)
    // 408 (the request was not read in time) and 423 (locked) are answered before any effect.
    this.inDoubt = details.status >= 500
  }
}

/** No response within the timeout: retry with backoff. */
export class UsercomTimeoutError extends UsercomError {
  readonly kind = 'retryable'
  readonly code = USERCOM_ERROR_CODES.TIMEOUT
  readonly inDoubt = true
  constructor(
    details: UsercomErrorDetails,
    readonly timeoutMs: number,
  ) {
    super(`${details.endpoint} timed out after ${timeoutMs} ms`, details)
  }
}

/**
 * Network codes of a connection that was never made: the request cannot have been sent. Any other
 * network failure (ECONNRESET, EPIPE, a socket hang up, ...) may come after the request was sent.
 */
export const NOT_SENT_NETWORK_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ERR_INVALID_URL',
]

/** The connection failed or was dropped: retry with backoff. `networkCode` is e.g. ECONNRESET. */
export class UsercomNetworkError extends UsercomError {
  readonly kind = 'retryable'
  readonly code = USERCOM_ERROR_CODES.NETWORK
  readonly inDoubt: boolean
  constructor(
    details: UsercomErrorDetails,
    readonly networkCode: string | undefined,
  ) {
    super(`${details.endpoint} failed: network error${networkCode ? ` (${networkCode})` : ''}`, details)
    this.inDoubt = networkCode === undefined || !NOT_SENT_NETWORK_CODES.includes(networkCode)
  }
}

/** A success status with a body that is not what the API documents: retry with backoff. */
export class UsercomBadResponseError extends UsercomError {
  readonly kind = 'retryable'
  readonly code = USERCOM_ERROR_CODES.BAD_RESPONSE
  /** A 2xx answered: the write most likely took effect, but what it made cannot be read. */
  readonly inDoubt = true
  constructor(details: UsercomErrorDetails, reason: string) {
    super(`${details.endpoint} answered ${details.status ?? '?'} with an unexpected body: ${reason}`, details)
  }
}

/** 403: dead-letter as `forbidden` at once (revoked key, domain not allowed, ...). */
export class UsercomForbiddenError extends UsercomError {
  readonly kind = 'forbidden'
  readonly code = USERCOM_ERROR_CODES.FORBIDDEN
  readonly inDoubt = false
  constructor(details: UsercomErrorDetails) {
    super(`${details.endpoint} was forbidden (403)`, details)
  }
}

/** 401: dead-letter as `unauthorized` at once (unknown API key). */
export class UsercomUnauthorizedError extends UsercomError {
  readonly kind = 'unauthorized'
  readonly code = USERCOM_ERROR_CODES.UNAUTHORIZED
  readonly inDoubt = false
  constructor(details: UsercomErrorDetails) {
    super(`${details.endpoint} was unauthorized (401)`, details)
  }
}

/**
 * Other 4xx (and 501, 505, 3xx): dead-letter as `rejected` at once, unless the 400 names fields
 * (`fieldErrors`) the delivery can leave out and send the rest without (partial acceptance).
 */
export class UsercomRejectedError extends UsercomError {
  readonly kind = 'rejected'
  readonly code: UsercomErrorCode = USERCOM_ERROR_CODES.REJECTED
  readonly inDoubt = false
  /** Field → User.com's messages, when a 400's body named fields; else undefined. */
  readonly fieldErrors: FieldErrors | undefined
  constructor(details: UsercomErrorDetails) {
    super(`${details.endpoint} was rejected (${details.status ?? '?'})`, details)
    this.fieldErrors = details.status === 400 ? details.fieldErrors : undefined
  }
}

/** 404 on a write: rejected; the executor invalidates its identity cache and retries the step once. */
export class UsercomNotFoundError extends UsercomRejectedError {
  override readonly code = USERCOM_ERROR_CODES.NOT_FOUND
}

/** Which kind a status is (for 2xx: undefined). 404 is `rejected` here; lookups treat it as "absent". */
export function classifyStatus(status: number): UsercomErrorKind | undefined {
  if (status >= 200 && status < 300) return undefined
  if (status === 429) return 'rate_limited'
  if (status === 401) return 'unauthorized'
  if (status === 403) return 'forbidden'
  if (status === 408 || status === 423) return 'retryable'
  if (status >= 500 && status !== 501 && status !== 505) return 'retryable'
  return 'rejected'
}

/**
 * True for any error of this taxonomy, also across realms (another copy of this module): then by a
 * `code` of USERCOM_ERROR_CODES and a `kind` of USERCOM_ERROR_KINDS.
 */
export function isUsercomError(error: unknown): error is UsercomError {
  if (error instanceof UsercomError) return true
  if (typeof error !== 'object' || error === null) return false
  const { code, kind } = error as { code?: unknown; kind?: unknown }
  return (
    typeof code === 'string' &&
    (Object.values(USERCOM_ERROR_CODES) as string[]).includes(code) &&
    typeof kind === 'string' &&
    (USERCOM_ERROR_KINDS as readonly string[]).includes(kind)
  )
}

/**
 * Whether a failed write may have taken effect at User.com (`inDoubt`, see UsercomError). Read
 * defensively (an error of another realm is a plain object); anything that is not a User.com error
 * (a Redis failure before sending, a bug) is not in doubt.
 */
export function isInDoubt(error: unknown): boolean {
  return isUsercomError(error) && (error as { inDoubt?: unknown }).inDoubt === true
}

/**
 * Retry-After in milliseconds: `"120"` (seconds) or an HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`,
 * relative to `now`, never negative). Absent or unreadable: undefined.
 */
export function parseRetryAfter(
  value: string | undefined | null,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined || value === null) return undefined
  const text = value.trim()
  if (text === '') return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The error for a non-2xx response. */
export function errorForStatus(
  details: UsercomErrorDetails & { status: number },
  retryAfter: string | undefined,
): UsercomError {
  const { status } = details
  switch (classifyStatus(status)) {
    case 'rate_limited':
      return new UsercomRateLimitedError(details, parseRetryAfter(retryAfter))
    case 'unauthorized':
      return new UsercomUnauthorizedError(details)
    case 'forbidden':
      return new UsercomForbiddenError(details)
    case 'retryable':
      return new UsercomServerError(details)
    default:
      return status === 404 ? new UsercomNotFoundError(details) : new UsercomRejectedError(details)
  }
}

/**
 * Refused before any request: an id that would change the path it is put in (`.`, `..`, one with `/`,
 * `\`, `?`, `#`, `%` or a control character), so the request would leave for a path the client did not
 * intend. Dead-lettered as `invalid` (the id can never be sent in a path).
 */
export class UsercomInvalidPathError extends UsercomError {
  /** Never sent. */
  readonly inDoubt = false
  readonly kind = 'invalid'
  readonly code = USERCOM_ERROR_CODES.INVALID_PATH
  constructor(details: UsercomErrorDetails, what: string) {
    super(`${details.endpoint}: ${what} cannot be sent in a request path (it would change the path)`, details)
  }
}

/**
 * Not sent: the tenant's own request rate limit (shared through Redis) has no slot within the wait a
 * request may spend holding a worker slot. Rate limited like a 429 (put back without spending an
 * attempt, after `retryAfterMs`), but User.com was not asked, so the tenant is not paused.
 */
export class UsercomThrottledError extends UsercomError {
  /** Never sent. */
  readonly inDoubt = false
  readonly kind = 'rate_limited'
  readonly code = USERCOM_ERROR_CODES.THROTTLED
  constructor(readonly retryAfterMs: number) {
    super(`the tenant's request rate limit has no slot for ${retryAfterMs} ms`, { endpoint: 'rate limiter' })
  }
}
