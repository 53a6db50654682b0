import type { ConnectionOptions } from 'bullmq'
import {
  createDeadLetterQueue,
  createEventsQueue,
  type DeadLetterQueue,
  type EventsQueue,
  type QueueOpenOptions,
} from './queues'
import { routingKeyOf, shardOf, shardsOf, type Shard } from './shards'

/** One shard's queue, with the shard's number and prefix. */
export interface ShardQueue<Q> extends Shard {
  readonly queue: Q
}

/** One queue per shard (`events` or `dead-letter`), opened on one connection. */
export interface ShardedQueues<Q> {
  /** QUEUE_SHARDS: how many shards there are (not how many are open). */
  readonly shards: number
  /** The open shards' queues, by ascending shard. */
  readonly list: readonly ShardQueue<Q>[]
  /** The queue of `shard`; throws a RangeError when that shard is not open. */
  of(shard: number): ShardQueue<Q>
  /** The queue an event of `tenantId` goes to: shard `shardOf(tenantId, routingKeyOf(event))`. */
  forEvent(tenantId: string, event: Parameters<typeof routingKeyOf>[0]): ShardQueue<Q>
  /** Closes every queue (not the connection: its owner quits it after). */
  close(): Promise<void>
}

export interface ShardedQueueOptions extends QueueOpenOptions {
  /** Open only these shards (WORKER_SHARDS); every shard when undefined. */
  only?: readonly number[]
}

function openShards<Q extends { close(): Promise<void> }>(
  prefix: string,
  shards: number,
  only: readonly number[] | undefined,
  open: (shardPrefix: string) => Q,
): ShardedQueues<Q> {
  const list = shardsOf(prefix, shards, only).map(shard => ({ ...shard, queue: open(shard.prefix) }))
  const byShard = new Map(list.map(entry => [entry.shard, entry]))
  const of = (shard: number): ShardQueue<Q> => {
    const entry = byShard.get(shard)
    if (entry === undefined) throw new RangeError(`shard ${shard} of ${shards} is not open here`)
    return entry
  }
  return {
    shards,
    list,
    of,
    forEvent: (tenantId, event) => of(shardOf(tenantId, routingKeyOf(event), shards)),
    close: async () => {
      await Promise.all(list.map(entry => entry.queue.close()))
    },
  }
}

/** A queue per shard, each opened by `open` (`createEventsQueue`, `createDeadLetterQueue`) under its prefix. */
function shardedFactory<Q extends { close(): Promise<void> }>(
  open: (connection: ConnectionOptions, prefix: string, options: QueueOpenOptions) => Q,
) {
  return (
    connection: ConnectionOptions,
    prefix: string,
    shards: number,
    options: ShardedQueueOptions = {},
  ): ShardedQueues<Q> =>
    openShards(prefix, shards, options.only, shardPrefix => open(connection, shardPrefix, options))
}

/** Every shard's `events` queue (or `only` those): `createEventsQueue` under each shard's prefix. */
export const createEventsQueues = shardedFactory<EventsQueue>(createEventsQueue)

/** Every shard's `dead-letter` queue (or `only` those): the DLQ is sharded as the events are. */
export const createDeadLetterQueues = shardedFactory<DeadLetterQueue>(createDeadLetterQueue)
