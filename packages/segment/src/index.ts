export {
  EVENT_TYPES,
  DELIVERED_TYPES,
  MAX_EVENT_BYTES,
  MAX_BATCH_BYTES,
  MAX_MESSAGE_ID_LENGTH,
  EventTypeSchema,
  SegmentEventSchema,
  IdentifyEventSchema,
  TrackEventSchema,
  PageEventSchema,
  ScreenEventSchema,
  GroupEventSchema,
  AliasEventSchema,
  ValidationIssueSchema,
} from './schema'
export { normalizeEvent, normalizeBatch } from './normalize'
export { isEnabled, DESTINATION_NAMES } from './integrations'
export { parseDate, parseDateValue } from './dates'
export { SPEC_FIXTURES, SPEC_DELETE_NOTICE } from './fixtures'
export type {
  EventType,
  SegmentEvent,
  IdentifyEvent,
  TrackEvent,
  PageEvent,
  ScreenEvent,
  GroupEvent,
  AliasEvent,
  ValidationIssue,
} from './schema'
export type { NormalizeContext, NormalizeResult, BatchResult } from './normalize'
export type { SpecFixture } from './fixtures'
export { isObject } from './json'
export type { JsonObject } from './json'
