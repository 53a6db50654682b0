import { sleep } from '@ucd/testing'
import { INGEST_NODE_FLAGS } from '@ucd/ingest'
import { createDeadLetterQueue, createRedisConnection, waitUntilReady } from '@ucd/queue'
import { SIM_API_KEY, WRITE_KEY, type BenchContext } from '../context'
import { spawnHttp, waitUntil } from '../procs'
import type { MemoryItem, MemorySection } from '../results'
import { round } from '../stats'
import { BodyFactory, EVENT_BYTES, EVENTS_PER_BATCH } from '../workload'
import { prefill } from './worker'

// Section 4: Redis bytes per waiting event, per dedupe marker and per dead-letter record, from
// `INFO memory` used_memory before and after many of them, on the run's private Redis.
//
// - waiting event: N events posted to a real ingest with dedupe off (jobs only);
// - dedupe marker: the same with dedupe on (jobs and markers), minus the above;
// - DLQ record: N jobs drained by a real worker against a simulator that answers 403 (revoked key);
//   the events jobs are removed as they complete, the dead-letter records stay.
// Each measurement starts after a warm-up (scripts cached in Redis, queue keys made), so only what
// the items themselves cost is counted. BullMQ's events streams are counted in the delta and also
// reported apart: they are trimmed to about 10 000 entries per queue, a fixed cost rather than one
// per item.

const streamKeys = (prefix: string): string[] => [`${prefix}:events:events`, `${prefix}:dead-letter:events`]

/**
 * used_memory once Redis is idle: a keyspace table that just doubled is rehashed in the background
 * (a little every 100 ms) and holds both tables meanwhile; a second is plenty for it to finish.
 */
async function settle(ctx: BenchContext): Promise<number> {
  await sleep(1000)
  return ctx.usedMemory()
}

/** Events of the warm-up before each measurement: scripts loaded, queue keys made, connections up. */
const WARMUP_EVENTS = EVENTS_PER_BATCH

async function ingestEvents(ctx: BenchContext, dedupeMinutes: number, count: number) {
  await ctx.flush()
  const prefix = ctx.prefix()
  const { child, origin, ready } = await spawnHttp(
    'the ingest to be ready',
    port =>
      ctx.group.spawnNode('ingest-memory', ctx.paths.ingest, {
        env: ctx.ingestEnv(prefix, port, { DEDUPE_WINDOW_MINUTES: String(dedupeMinutes) }),
        nodeArgs: INGEST_NODE_FLAGS,
      }),
    '/health/ready',
  )
  try {
    await ready()
    const bodies = new BodyFactory(prefix, ctx.settings.users, new Date().toISOString())
    const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`
    const post = async (): Promise<void> => {
      const response = await fetch(`${origin}/v1/batch`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: bodies.batch(),
      })
      const text = await response.text()
      if (response.status !== 200)
        throw new Error(`ingest answered ${response.status}: ${text.slice(0, 300)}`)
    }
    // Warm-up: BullMQ's and the ingest's Lua scripts are cached by Redis (a fixed cost, kept across
    // FLUSHALL), the queue's own keys exist: neither is a per-event cost.
    await post()
    const before = await settle(ctx)
    const streams0 = await ctx.keyBytes(streamKeys(prefix))
    const requests = Math.ceil(count / EVENTS_PER_BATCH)
    let next = 0
    const poster = async (): Promise<void> => {
      while (next < requests) {
        next += 1
        await post()
      }
    }
    await Promise.all(Array.from({ length: 4 }, poster))
    const after = await settle(ctx)
    const items = requests * EVENTS_PER_BATCH
    const waiting = (await ctx.redis.llen(`${prefix}:events:wait`)) - WARMUP_EVENTS
    if (waiting !== items) throw new Error(`expected ${items} more waiting jobs, found ${waiting}`)
    const anyJob = await ctx.redis.lindex(`${prefix}:events:wait`, 0)
    const jobData = anyJob === null ? null : await ctx.redis.hget(`${prefix}:events:${anyJob}`, 'data')
    return {
      items,
      delta: after - before,
      streams: (await ctx.keyBytes(streamKeys(prefix))) - streams0,
      jobDataBytes: jobData === null ? 0 : Buffer.byteLength(jobData),
    }
  } finally {
    await child.stop()
  }
}

function item(items: number, delta: number, streams: number): MemoryItem {
  return {
    items,
    usedMemoryDeltaBytes: delta,
    streamBytes: streams,
    bytesPerItem: round(delta / items, 1),
    bytesPerItemExcludingStreams: round((delta - streams) / items, 1),
  }
}

async function deadLetters(ctx: BenchContext, count: number): Promise<MemoryItem> {
  const sim = await ctx.sim()
  await ctx.flush()
  await sim.admin.reset()
  await sim.admin.revoke(SIM_API_KEY)
  const prefix = ctx.prefix()
  const control = createRedisConnection(ctx.redisUrl, 'producer')
  await waitUntilReady(control)
  const dlq = createDeadLetterQueue(control, prefix)
  const { child, ready } = await spawnHttp(
    'the worker to be ready',
    metricsPort =>
      ctx.group.spawnNode('worker-dlq', ctx.paths.worker, {
        env: ctx.workerEnv(prefix, sim, 50, metricsPort),
      }),
    '/health/ready',
  )
  const drained = (records: number) =>
    waitUntil(
      `${records} dead-letter records`,
      async () =>
        (await dlq.getWaitingCount()) >= records &&
        (await ctx.redis.llen(`${prefix}:events:wait`)) === 0 &&
        (await ctx.redis.zcard(`${prefix}:events:active`)) === 0,
      { child, timeoutMs: 180_000, intervalMs: 200 },
    )
  try {
    await ready()
    // Warm-up, as for the ingest: scripts cached, queue keys made.
    const warmup = await prefill(ctx, prefix, WARMUP_EVENTS, { paused: false, tag: `${prefix}w` })
    await warmup.close()
    await drained(WARMUP_EVENTS)
    const before = await settle(ctx)
    const streams0 = await ctx.keyBytes(streamKeys(prefix))
    const filled = await prefill(ctx, prefix, count, { paused: false, tag: `${prefix}m` })
    await filled.close()
    await drained(WARMUP_EVENTS + count)
    const after = await settle(ctx)
    const records = (await dlq.getWaitingCount()) - WARMUP_EVENTS
    const streams = (await ctx.keyBytes(streamKeys(prefix))) - streams0
    return item(records, after - before, streams)
  } finally {
    await child.stop()
    await sim.admin.restore(SIM_API_KEY)
    await dlq.close()
    await control.quit()
  }
}

export async function runMemorySection(ctx: BenchContext): Promise<MemorySection> {
  const count = ctx.settings.memoryEvents
  ctx.log(`memory: ${count} waiting events (dedupe off)`)
  const jobsOnly = await ingestEvents(ctx, 0, count)
  ctx.log(`memory: ${count} waiting events with dedupe markers`)
  const withMarkers = await ingestEvents(ctx, 1440, count)
  ctx.log(`memory: ${count} dead-letter records`)
  const dlqRecord = await deadLetters(ctx, count)
  await ctx.flush()
  ctx.sample('memory')
  const section: MemorySection = {
    events: count,
    eventBytes: EVENT_BYTES,
    jobDataBytes: jobsOnly.jobDataBytes,
    waitingEvent: item(jobsOnly.items, jobsOnly.delta, jobsOnly.streams),
    dedupeMarker: item(
      withMarkers.items,
      withMarkers.delta - jobsOnly.delta,
      withMarkers.streams - jobsOnly.streams,
    ),
    dlqRecord,
  }
  ctx.log(
    `  per waiting event ${section.waitingEvent.bytesPerItem} B, per marker ${section.dedupeMarker.bytesPerItem} B, ` +
      `per DLQ record ${section.dlqRecord.bytesPerItem} B`,
  )
  return section
}
