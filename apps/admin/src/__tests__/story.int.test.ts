/**
 * The whole 403 story with the real worker and the real simulator: a tenant's key is revoked, its
 * events land in the DLQ as `forbidden`; a replay before the fix brings them back (replay count 1);
 * the key is fixed in the config and the worker restarted; `dlq replay --reason forbidden` (after a
 * dry run that changes nothing) delivers everything: DLQ empty, replay counts recorded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { loadConfig, type Config } from '@ucd/config'
import { createLogger } from '@ucd/logger'
import {
  createEventsQueue,
  dedupeKey,
  eventJobId,
  EventJobDataSchema,
  type DeadLetterQueue,
  type EventsQueue,
} from '@ucd/queue'
import type { SegmentEvent } from '@ucd/segment'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { buildWorker, usercomDelivery, type BuiltWorker } from '@ucd/worker'
import type { Redis } from 'ioredis'
import { connect, dumpPrefix, openDlq, runCli } from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const ACME_KEY = 'uc_acme_original_key_0123456789abcdef0123456789abcdef0123456789ab'
const ACME_NEW_KEY = 'uc_acme_rotated_key_fedcba9876543210fedcba9876543210fedcba98765'
const GLOBEX_KEY = 'uc_globex_key_00112233445566778899aabbccddeeff00112233445566778899'

let sim: RunningSimulator
let redis: Redis
let dlq: DeadLetterQueue
let events: EventsQueue
const workers: BuiltWorker[] = []

/** Worker config as main.ts would load it, with TENANTS_FILE holding these keys. */
function workerConfig(acmeKey: string): Config {
  const tenants = [
    { id: 'acme', writeKeys: ['wk_acme'], usercom: { apiKey: acmeKey, baseUrl: sim.baseUrl } },
    { id: 'globex', writeKeys: ['wk_globex'], usercom: { apiKey: GLOBEX_KEY, baseUrl: sim.baseUrl } },
  ]
  return loadConfig(
    {
      REDIS_URL: url,
      QUEUE_PREFIX: prefix,
      TENANTS_FILE: '/etc/ucd/tenants.json',
      WORKER_CONCURRENCY: '10',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '200',
      USERCOM_TIMEOUT_MS: '3000',
      WORKER_DRAIN_TIMEOUT_MS: '3000',
      METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
    },
    { app: 'worker', readFile: () => JSON.stringify(tenants) },
  )
}

function startWorker(acmeKey: string, autorun = true): BuiltWorker {
  const built = buildWorker({
    config: workerConfig(acmeKey),
    logger: createLogger({ service: 'worker-story-test', level: 'silent' }),
    deliveryFor: usercomDelivery,
    autorun,
  })
  workers.push(built)
  return built
}

const at = '2026-11-28T09:00:00.000Z'
let counter = 0
const envelope = (user: { userId?: string; anonymousId?: string }) => ({
  messageId: `story-${++counter}`,
  ...user,
  timestamp: at,
  receivedAt: at,
  context: { library: { name: 'analytics-node', version: '3.1.0' } },
  integrations: {},
})
const ACME_EVENTS: SegmentEvent[] = [
  {
    ...envelope({ userId: 'u1' }),
    type: 'identify',
    traits: { email: 'peter@example.com', plan: 'premium' },
  },
  { ...envelope({ userId: 'u1' }), type: 'track', event: 'Order Completed', properties: { revenue: 12.5 } },
  { ...envelope({ userId: 'u2' }), type: 'track', event: 'Signed Up', properties: {} },
  {
    ...envelope({ userId: 'u2' }),
    type: 'page',
    name: 'Home',
    properties: { url: 'https://shop.example.com/', title: 'Home' },
  },
  { ...envelope({ userId: 'u1' }), type: 'group', groupId: 'g-initech', traits: { name: 'Initech' } },
  { ...envelope({ anonymousId: 'anon-9' }), type: 'identify', traits: { plan: 'trial' } },
]
const GLOBEX_EVENTS: SegmentEvent[] = [
  { ...envelope({ userId: 'g1' }), type: 'track', event: 'Order Completed', properties: {} },
  { ...envelope({ userId: 'g2' }), type: 'identify', traits: { email: 'g2@example.com' } },
]

/** What the ingest does for an accepted event: a dedupe marker, then the job under its deterministic id. */
async function ingest(tenantId: string, list: SegmentEvent[]): Promise<void> {
  for (const event of list) await redis.set(dedupeKey(prefix, tenantId, event.messageId), '1', 'EX', 3600)
  await events.addBulk(
    list.map(event => ({
      name: event.type,
      data: EventJobDataSchema.parse({ tenantId, event, receivedAt: at }),
      opts: { jobId: eventJobId(tenantId, event.messageId) },
    })),
  )
}

const cli = (...argv: string[]) => runCli(url, prefix, argv, { now: () => new Date() })
const forbiddenRecords = async () => {
  const run = await cli('dlq', 'list', '--reason', 'forbidden', '--limit', '1000', '--json')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as {
    id: string
    tenantId: string
    replays: number
    event: { messageId: string }
  }[]
}
const eventsIdle = async () => {
  const counts = await events.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed')
  return Object.values(counts).every(n => n === 0)
}

beforeAll(async () => {
  sim = await startSimulator({
    keys: [
      { key: ACME_KEY, app: 'acme' },
      { key: GLOBEX_KEY, app: 'globex' },
    ],
  })
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
  events = createEventsQueue(redis, prefix)
})

afterEach(async () => {
  for (const built of workers.splice(0)) await built.close(3000)
})

afterAll(async () => {
  await Promise.all([dlq.close(), events.close()])
  await sim.close()
  await cleanupPrefix(url, prefix)
  await redis.quit()
})

describe('403 story: revoked key -> DLQ forbidden -> key fixed -> dlq replay --reason forbidden', () => {
  it('parks the revoked tenant’s events, then delivers every one after the fix and the replay', async () => {
    // 1. acme's key is revoked at User.com; globex is fine.
    await sim.admin.revoke(ACME_KEY)
    startWorker(ACME_KEY)
    await ingest('acme', ACME_EVENTS)
    await ingest('globex', GLOBEX_EVENTS)

    // 2. acme's events land in the DLQ as forbidden; globex's are delivered.
    await waitFor(
      async () => (await forbiddenRecords()).length === ACME_EVENTS.length && (await eventsIdle()),
      {
        timeoutMs: 60_000,
        description: 'six forbidden records and an idle events queue',
      },
    )
    let records = await forbiddenRecords()
    expect(records.map(r => r.tenantId)).toEqual(ACME_EVENTS.map(() => 'acme'))
    expect(records.map(r => r.event.messageId).sort()).toEqual(ACME_EVENTS.map(e => e.messageId).sort())
    expect(records.every(r => r.replays === 0 && r.id.endsWith('-r0'))).toBe(true)
    const globex = (await sim.admin.state('globex')).apps.globex!
    expect(globex.events).toHaveLength(1)
    expect(globex.users.map(u => u.custom_id).sort()).toEqual(['g1', 'g2'])
    expect((await sim.admin.state('acme')).apps.acme?.users ?? []).toHaveLength(0)

    // The operator looks: stats and the list.
    const stats = JSON.parse((await cli('stats', '--json')).stdout)
    expect(stats.deadLetter.byReason).toEqual({ forbidden: 6 })
    expect(stats.deadLetter.byTenant).toEqual({ acme: 6 })
    expect(stats.events.workers).toBeGreaterThanOrEqual(1)
    const table = await cli('dlq', 'list', '--reason', 'forbidden')
    expect(table.stdout).toMatch(/forbidden\s+403\s+acme\s+identify\s+u1\s+UC_ERR_FORBIDDEN\s+0/)
    // Nothing in Redis holds an API key.
    const everything = JSON.stringify(await dumpPrefix(redis, prefix))
    for (const key of [ACME_KEY, ACME_NEW_KEY, GLOBEX_KEY]) expect(everything).not.toContain(key)

    // 3. A replay before the cause is fixed: the events come back forbidden, replay count 1.
    const early = await cli('dlq', 'replay', '--reason', 'forbidden')
    expect(early.code).toBe(0)
    expect(early.stdout).toMatch(/6 records selected; replayed 6, already queued 0, failed 0, skipped 0/)
    await waitFor(
      async () => {
        const back = await forbiddenRecords()
        return back.length === 6 && back.every(r => r.replays === 1) && (await eventsIdle())
      },
      { timeoutMs: 60_000, description: 'the six events dead-lettered again with replays 1' },
    )
    records = await forbiddenRecords()
    expect(records.every(r => r.id.endsWith('-r1'))).toBe(true)
    expect((await cli('dlq', 'list', '--reason', 'forbidden')).stdout).toMatch(/UC_ERR_FORBIDDEN\s+1\n/)

    // 4. The fix: a new key for acme in the config (the old one stays revoked), workers restarted.
    await sim.admin.addKey(ACME_NEW_KEY, 'acme')
    for (const built of workers.splice(0)) await built.close(3000)
    const restarted = startWorker(ACME_NEW_KEY, false)

    // 5. Dry run: prints the six, changes nothing.
    const before = await dumpPrefix(redis, prefix)
    const dry = await cli('dlq', 'replay', '--reason', 'forbidden', '--dry-run')
    expect(dry.code).toBe(0)
    expect(dry.stdout.match(/replay -> events job acme-/g)).toHaveLength(6)
    expect(dry.stdout).toMatch(/would replay 6, already queued 0, would skip 0/)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)

    // 6. The replay: back in `events` under the ingest's ids (the dedupe markers still there), count 2.
    const replay = await cli('dlq', 'replay', '--reason', 'forbidden')
    expect(replay.code).toBe(0)
    expect(replay.stdout).toBe(
      'Replay done: 6 records selected; replayed 6, already queued 0, failed 0, skipped 0.\n',
    )
    for (const event of ACME_EVENTS) {
      expect(await redis.exists(dedupeKey(prefix, 'acme', event.messageId))).toBe(1)
      const job = await events.getJob(eventJobId('acme', event.messageId))
      expect(job?.data.event.messageId).toBe(event.messageId)
      expect(job?.data.replay?.count).toBe(2)
      expect(job?.data.delivery).toBeUndefined()
      expect(job?.attemptsMade).toBe(0)
    }
    expect(await dlq.getWaitingCount()).toBe(0)

    // 7. The restarted worker delivers everything with the new key.
    restarted.run()
    const acme = await waitFor(
      async () => {
        const s = (await sim.admin.state('acme')).apps.acme
        return s &&
          s.events.length === 2 &&
          s.pageViews.length === 1 &&
          s.companies.length === 1 &&
          (await eventsIdle())
          ? s
          : undefined
      },
      { timeoutMs: 60_000, description: 'all six acme events delivered' },
    )
    expect(acme.users.map(u => u.custom_id).sort()).toEqual(['anon-9', 'u1', 'u2'])
    expect(acme.users.find(u => u.custom_id === 'u1')?.email).toBe('peter@example.com')
    expect(acme.events.map(e => e.name).sort()).toEqual(['Order Completed', 'Signed Up'])
    expect(acme.companies[0]?.custom_id).toBe('g-initech')
    expect(acme.companies[0]?.members).toEqual([acme.users.find(u => u.custom_id === 'u1')?.id])

    // 8. Check, as the runbook says: DLQ empty, nothing forbidden, nothing waiting.
    const after = JSON.parse((await cli('stats', '--json')).stdout)
    expect(after.deadLetter.total).toBe(0)
    expect(after.deadLetter.byReason).toEqual({})
    expect(after.events.counts).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      prioritized: 0,
      failed: 0,
      paused: 0,
    })
    expect((await cli('dlq', 'list', '--reason', 'forbidden')).stdout).toBe('No dead-letter records match.\n')
    // globex was delivered once and never touched by the replays.
    expect((await sim.admin.state('globex')).apps.globex?.events).toHaveLength(1)
  })

  it('same key restored at User.com (no config change): replay delivers, DLQ empty', async () => {
    startWorker(ACME_NEW_KEY)
    await sim.admin.revoke(GLOBEX_KEY)
    const more: SegmentEvent[] = [
      { ...envelope({ userId: 'g3' }), type: 'track', event: 'Order Completed', properties: { n: 3 } },
      { ...envelope({ userId: 'g4' }), type: 'identify', traits: { email: 'g4@example.com' } },
      { ...envelope({ userId: 'g5' }), type: 'track', event: 'Order Completed', properties: { n: 5 } },
    ]
    await ingest('globex', more)
    await waitFor(async () => (await forbiddenRecords()).length === 3 && (await eventsIdle()), {
      timeoutMs: 60_000,
      description: 'three globex events dead-lettered as forbidden',
    })
    expect((await forbiddenRecords()).every(r => r.tenantId === 'globex' && r.replays === 0)).toBe(true)

    await sim.admin.restore(GLOBEX_KEY)
    const replay = await cli('dlq', 'replay', '--reason', 'forbidden', '--tenant', 'globex')
    expect(replay.code).toBe(0)
    expect(replay.stdout).toMatch(/3 records selected; replayed 3,/)
    const globex = await waitFor(
      async () => {
        const s = (await sim.admin.state('globex')).apps.globex
        return s && s.events.length === 3 && (await eventsIdle()) ? s : undefined
      },
      { timeoutMs: 60_000, description: 'the three globex events delivered' },
    )
    expect(globex.users.map(u => u.custom_id).sort()).toEqual(['g1', 'g2', 'g3', 'g4', 'g5'])
    expect(JSON.parse((await cli('stats', '--json')).stdout).deadLetter.total).toBe(0)
  })
})
