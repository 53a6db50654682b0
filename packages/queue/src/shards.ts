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

/** Redis Cluster's key slot function: CRC16-CCITT (XMODEM) of the key (here: of a hash tag's content). */
export function crc16(text: string): number {
  let crc = 0
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

/** Redis Cluster has 16384 slots; a key's slot is crc16(its hash tag) mod 16384. */
export const CLUSTER_SLOTS = 16384

/** The slot range shard `shard` of `shards` aims for: the middle half of the shard-th of `shards` equal ranges. */
export function targetSlots(shard: number, shards: number): { from: number; to: number } {
  const start = (shard * CLUSTER_SLOTS) / shards
  const width = CLUSTER_SLOTS / shards
  return { from: Math.ceil(start + width / 4), to: Math.floor(start + (3 * width) / 4) - 1 }
}

const tagCache = new Map<string, string[]>()

/**
 * The hash tags (without braces) of every shard of `prefix` and `shards`, computed once and cached:
 * shard k's tag is `<prefix>-<k>` when its slot falls in the middle half of the k-th of `shards` equal
 * slot ranges (`targetSlots`), else `<prefix>-<k>-<n>` for the smallest n ≥ 1 that does. A cluster whose
 * masters own about equal contiguous slot ranges (redis-cli --cluster create, managed services) then
 * holds about `shards / masters` shards each, instead of whatever the tags' CRC16 happen to give.
 */
function shardTags(prefix: string, shards: number): string[] {
  const cacheKey = `${shards}\u0000${prefix}`
  const cached = tagCache.get(cacheKey)
  if (cached !== undefined) return cached
  const tags = Array.from({ length: shards }, (_, shard) => {
    const { from, to } = targetSlots(shard, shards)
    for (let n = 0; n < 1_000_000; n++) {
      const tag = n === 0 ? `${prefix}-${shard}` : `${prefix}-${shard}-${n}`
      const slot = crc16(tag) % CLUSTER_SLOTS
      if (slot >= from && slot <= to) return tag
    }
    throw new Error(`no hash tag for shard ${shard} of ${shards} lands in slots ${from}..${to}`)
  })
  tagCache.set(cacheKey, tags)
  return tags
}

/**
 * The key prefix of `shard`: with one shard, `prefix` itself (today's key names: `ucd:events:wait`);
 * with more, a hash tag `{<prefix>-<shard>}` or `{<prefix>-<shard>-<n>}` (e.g. `{ucd-3-17}`): every key
 * under it is in one slot, and the tag is chosen so that the shards spread evenly over the slots
 * (`shardTags`). It is the BullMQ prefix of the shard's `events` and `dead-letter` queues and the prefix
 * of the dedupe markers and per-user keys of the users routed to the shard.
 */
export function shardPrefix(prefix: string, shard: number, shards: number): string {
  checkShards(shards)
  checkShard(shard, shards)
  return shards === 1 ? prefix : `{${shardTags(prefix, shards)[shard]}}`
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
