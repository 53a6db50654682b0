export {
  EVENTS_QUEUE,
  DEAD_LETTER_QUEUE,
  DEAD_LETTER_REASONS,
  EventJobDataSchema,
  DeadLetterRecordSchema,
} from './schema'
export type { EventJobData, DeliveryState, DeadLetterReason, DeadLetterRecord } from './schema'
export { eventJobId, dedupeKey, eventKeys, deadLetterJobId, DEAD_LETTER_JOB_ID_PATTERN } from './ids'
export { createRedisConnection, waitUntilReady } from './connection'
export { createEventsQueue, createDeadLetterQueue, EVENT_JOB_OPTIONS, MAX_EVENT_ATTEMPTS } from './queues'
export type { EventsQueue, DeadLetterQueue } from './queues'
