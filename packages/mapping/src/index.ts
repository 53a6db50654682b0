export {
  ATTRIBUTE_VALUE_TYPES,
  AttributeValueTypeSchema,
  AttributeContentTypeSchema,
  AttributeDefSchema,
  AttributeCatalogSchema,
  OperationSchema,
  EnsureAttributeOpSchema,
  UpsertUserOpSchema,
  ResolveUserOpSchema,
  CreateEventOpSchema,
  CreatePageViewOpSchema,
  UpsertCompanyOpSchema,
  AddCompanyMemberOpSchema,
  MergeUsersOpSchema,
  CreatedValueTypeSchema,
  DroppedSchema,
  PlanSchema,
} from './operations'
export { planEvent, screenEventName, SKIP_REASONS } from './plan'
export { toNameStd, MAX_ATTRIBUTE_NAME_LENGTH } from './names'
export { convertAttributeValue, MAX_STRING_VALUE_LENGTH } from './values'
export { findAttribute } from './attributes'
export { USER_FIELDS } from './user'
export { SIGNED_UP_AT } from './user-traits'
export { COMPANY_FIELDS } from './company'
export { MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MAX_URL_LENGTH } from './limits'
export type {
  AttributeValueType,
  AttributeContentType,
  AttributeDef,
  AttributeCatalog,
  CreatedValueType,
  Operation,
  OperationKind,
  Dropped,
  Plan,
} from './operations'
export type { Conversion } from './values'
export type { PlanOptions } from './plan'
