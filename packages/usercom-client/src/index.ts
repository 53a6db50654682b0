// What other packages import: @ucd/delivery (the client, the errors it tells apart, the attribute shape),
// apps/worker (the client and rate limiters; the taxonomy for its policy), @ucd/queue (the kinds that
// name dead-letter reasons, the response bound). The rest of this package is reached through these.
export { createUsercomClient } from './client'
export { ENDPOINTS } from './api'
export type { UsercomClient, RateLimiter } from './api'
export { unsafePathReason } from './paths'
export {
  UsercomForbiddenError,
  UsercomNotFoundError,
  UsercomRateLimitedError,
  UsercomRejectedError,
  UsercomServerError,
  UsercomTimeoutError,
  UsercomInvalidPathError,
  UsercomThrottledError,
  USERCOM_ERROR_CODES,
  DEAD_LETTER_KINDS,
  MAX_RESPONSE_TEXT_LENGTH,
  isInDoubt,
  isUsercomError,
  parseRetryAfter,
  truncateResponse,
} from './errors'
export type { UsercomErrorKind } from './errors'
export { NON_FIELD_ERRORS, parseFieldErrors } from './field-errors'
export type { FieldErrors } from './field-errors'
export { createRedisRateLimiter, combineRateLimiters } from './rate-limiter'
export type { UsercomAttribute, UsercomEventOccurrence, UserEventsPage } from './schemas'
