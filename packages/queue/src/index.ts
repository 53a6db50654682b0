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
export type { RedisClient, RedisTarget, ConnectionRole, ConnectionOptions } from './connection'
export { createEventsQueue, createDeadLetterQueue, EVENT_JOB_OPTIONS, MAX_EVENT_ATTEMPTS } from './queues'
export type { EventsQueue, DeadLetterQueue } from './queues'
export {
  shardOf,
  routingKeyOf,
  shardPrefix,
  shardPrefixes,
  shardsOf,
  crc16,
  CLUSTER_SLOTS,
  targetSlots,
} from './shards'
export type { Shard } from './shards'
export { createEventsQueues, createDeadLetterQueues } from './sharded-queues'
export type { ShardQueue, ShardedQueues, ShardedQueueOptions } from './sharded-queues'
