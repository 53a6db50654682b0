export { createUsercomClient, encodePathSegment, ENDPOINTS } from './client'
export type {
  UsercomClient,
  UsercomClientOptions,
  UsercomResponseInfo,
  UsercomEndpoint,
  RateLimiter,
} from './client'
export {
  UsercomError,
  UsercomRateLimitedError,
  UsercomServerError,
  UsercomTimeoutError,
  UsercomNetworkError,
  UsercomBadResponseError,
  UsercomForbiddenError,
  UsercomUnauthorizedError,
  UsercomRejectedError,
  UsercomNotFoundError,
  USERCOM_ERROR_CODES,
  MAX_ERROR_RESPONSE_CHARS,
  classifyStatus,
  isUsercomError,
  parseRetryAfter,
} from './errors'
export type { UsercomErrorKind, UsercomErrorCode, UsercomErrorDetails } from './errors'
export { createRedisRateLimiter, combineRateLimiters } from './rate-limiter'
export type { RedisRateLimiterOptions } from './rate-limiter'
export {
  UpsertUserBodySchema,
  CreateAttributeBodySchema,
  CreateEventBodySchema,
  CreateSiteViewBodySchema,
  CompanyBodySchema,
  CreateCompanyBodySchema,
  AddMemberBodySchema,
  UpsertUserResultSchema,
  UsercomUserSchema,
  UsercomAttributeSchema,
  AttributesPageSchema,
  CreateEventResultSchema,
  CreateSiteViewResultSchema,
  UsercomCompanySchema,
  AddMemberResultSchema,
} from './schemas'
export type {
  UpsertUserBody,
  CreateAttributeBody,
  CreateEventBody,
  CreateSiteViewBody,
  CompanyBody,
  CreateCompanyBody,
  AddMemberBody,
  UpsertUserResult,
  UsercomUser,
  UsercomAttribute,
  AttributesPage,
  CreateEventResult,
  CreateSiteViewResult,
  UsercomCompany,
  AddMemberResult,
} from './schemas'
export { createExecutor } from './executor'
export type { Executor, ExecutorOptions, DeliverOptions, DeliveryResult, Checkpoints } from './executor'
export { IdentitySchema } from './identity-cache'
export type { Identity } from './identity-cache'
export { CatalogSnapshotSchema, toCatalog } from './catalog-cache'
export type { CatalogSnapshot } from './catalog-cache'
