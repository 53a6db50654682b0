export {
  EVENTS_QUEUE,
  DEAD_LETTER_QUEUE,
  DEAD_LETTER_REASONS,
  EventJobDataSchema,
  DeliveryStateSchema,
  DeadLetterReasonSchema,
  DeadLetterRecordSchema,
} from './schema'
export type { EventJobData, DeliveryState, DeadLetterReason, DeadLetterRecord } from './schema'
export { eventJobId, dedupeKey, eventKeys, deadLetterJobId, DEAD_LETTER_JOB_ID_PATTERN } from './ids'
export { createRedisConnection, redisOptions, waitUntilReady } from './connection'
export type { ConnectionRole, ConnectionOptions } from './connection'
export {
  createEventsQueue,
  createDeadLetterQueue,
  EVENT_JOB_OPTIONS,
  DEAD_LETTER_JOB_OPTIONS,
  EVENT_BACKOFF_TYPE,
  MAX_EVENT_ATTEMPTS,
} from './queues'
export type { EventsQueue, DeadLetterQueue, QueueOpenOptions } from './queues'
