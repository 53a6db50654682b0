import { createHash } from 'node:crypto'
import { MAX_QUEUE_SHARDS } from '@ucd/config'

// Event queue shards (QUEUE_SHARDS, issue 19). An event goes to shard `shardOf(tenant, routing key)`;
// each shard's queues and the per-user keys of the users routed to it live under the shard's prefix,
// whose hash tag puts them in one Redis Cluster slot. README.md "Shards" has the key layout.

function checkShards(shards: number): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_QUEUE_SHARDS)
    throw new RangeError(`shards must be a whole number from 1 to ${MAX_QUEUE_SHARDS}, not ${shards}`)
}

function checkShard(shard: number, shards: number): void {
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards)
    throw new RangeError(`shard must be a whole number from 0 to ${shards - 1}, not ${shard}`)
}

/** The identity an event is routed by: its `userId`, else its `anonymousId` (Segment requires one). */
export function routingKeyOf(event: {
  userId?: string | undefined
  anonymousId?: string | undefined
}): string {
  return event.userId ?? event.anonymousId ?? ''
}

/**
 * The shard of a (tenant, routing key): the first 4 bytes of SHA-256(`tenantId \0 routingKey`) as an
 * unsigned integer, mod `shards`. Stable across processes, releases and machines: changing it moves
 * users between shards, which is a migration (drain first), never a refactor.
 */
export function shardOf(tenantId: string, routingKey: string, shards: number): number {
  checkShards(shards)
  if (shards === 1) return 0
  const digest = createHash('sha256').update(`${tenantId}\u0000${routingKey}`, 'utf8').digest()
  return digest.readUInt32BE(0) % shards
}

/**
 * The key prefix of `shard`: with one shard, `prefix` itself (today's key names: `ucd:events:wait`);
 * with more, `{<prefix>-<shard>}` (e.g. `{ucd-3}`), a hash tag: every key under it is in one slot.
 * It is the BullMQ prefix of the shard's `events` and `dead-letter` queues and the prefix of the
 * dedupe markers and per-user keys of the users routed to the shard.
 */
export function shardPrefix(prefix: string, shard: number, shards: number): string {
  checkShards(shards)
  checkShard(shard, shards)
  return shards === 1 ? prefix : `{${prefix}-${shard}}`
}

/** One shard: its number and its key prefix (`shardPrefix`). */
export interface Shard {
  readonly shard: number
  readonly prefix: string
}

/**
 * The shards `only` lists (WORKER_SHARDS; every shard when undefined), ascending, with their prefixes:
 * what a worker consumes, what the admin CLI and KEDA look at.
 */
export function shardsOf(prefix: string, shards: number, only?: readonly number[]): Shard[] {
  checkShards(shards)
  const listed = only === undefined ? Array.from({ length: shards }, (_, shard) => shard) : [...new Set(only)]
  for (const shard of listed) checkShard(shard, shards)
  return listed.sort((a, b) => a - b).map(shard => ({ shard, prefix: shardPrefix(prefix, shard, shards) }))
}

/** The prefixes of `shardsOf`: every shard's (or `only` those), ascending. */
export function shardPrefixes(prefix: string, shards: number, only?: readonly number[]): string[] {
  return shardsOf(prefix, shards, only).map(s => s.prefix)
}
