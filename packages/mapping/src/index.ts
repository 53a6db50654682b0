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
  DroppedSchema,
  PlanSchema,
} from './operations'
export { planEvent, SKIP_REASONS } from './plan'
export { toNameStd, MAX_ATTRIBUTE_NAME_LENGTH } from './names'
export { convertAttributeValue, MAX_STRING_VALUE_LENGTH } from './values'
export { findAttribute } from './attributes'
export { USER_FIELDS, MAX_NAME_LENGTH } from './user'
export { COMPANY_FIELDS } from './company'
export type {
  AttributeValueType,
  AttributeContentType,
  AttributeDef,
  AttributeCatalog,
  Operation,
  OperationKind,
  Dropped,
  Plan,
} from './operations'
export type { Conversion } from './values'
