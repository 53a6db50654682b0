import { eventJobId, type EventsQueue, type ShardedQueues } from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { jobData } from './helpers'

/**
 * STAND-IN FOR THE INGEST (issue 19): enqueues events as the sharded ingest does, each to the events
 * queue of its shard (`shardOf(tenant, userId ?? anonymousId)`), one addBulk per shard, deterministic
 * job ids (a duplicate messageId is one job). Main's ingest cannot target a Redis Cluster yet (the
 * `ingest` engineer's sharded producer does): once it is merged, the cluster pipeline tests should post
 * to the ingest instead of calling this.
 */
export async function enqueueSharded(
  queues: ShardedQueues<EventsQueue>,
  events: readonly SegmentEvent[],
  tenantId = 'default',
): Promise<Map<number, number>> {
  const byShard = new Map<number, SegmentEvent[]>()
  for (const event of events) {
    const { shard } = queues.forEvent(tenantId, event)
    byShard.set(shard, [...(byShard.get(shard) ?? []), event])
  }
  await Promise.all(
    [...byShard].map(([shard, shardEvents]) =>
      queues.of(shard).queue.addBulk(
        shardEvents.map(event => ({
          name: event.type,
          data: jobData(event, tenantId),
          opts: { jobId: eventJobId(tenantId, event.messageId) },
        })),
      ),
    ),
  )
  return new Map([...byShard].map(([shard, list]) => [shard, list.length]))
}
