import type { Logger } from '@ucd/logger'
import type { Dropped, Plan, PlanOptions } from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'
import type { UsercomClient } from '@ucd/usercom-client'
import type { Cluster, Redis } from 'ioredis'
import { CatalogCache } from './catalog-cache'
import { CheckpointLog, type Checkpoints, type OnStep, type PersistCheckpoints } from './checkpoints'
import {
  Consistency,
  DEFAULT_CLOCK_TTL_SECONDS,
  DEFAULT_LOCK_TTL_MS,
  type ConsistencySettings,
} from './consistency/consistency'
import { DeliveryRun, type DeliveryServices } from './delivery-run'
import { IdentityCache } from './identity-cache'
import type { OnInDoubt } from './in-doubt'
import type { MergeOutcome } from './identity/merge'
import { AnonymousVisitors } from './identity/visitors'
import { tenantKey, type KeyBase } from './keys'
import { AttributeCreator } from './steps/ensure-attribute'
import { UserResolver } from './user-resolver'

// Runs a mapping plan against User.com: one event, its steps in order, with the identity cache,
// the attribute catalog and step checkpoints (a retried delivery skips the steps that succeeded).
// The state machine of one delivery is in delivery-run.ts; each operation's runner in steps/.

export type { Checkpoints } from './checkpoints'

export interface ExecutorOptions {
  tenantId: string
  client: UsercomClient
  /** Shared by every worker: identity cache and attribute catalog live here (never an API key). */
  redis: Redis | Cluster
  /**
   * QUEUE_PREFIX and QUEUE_SHARDS (`{ prefix, shards }`; a string is one shard): keys are
   * `<prefix>:<tenantId>:catalog` and `<user's shard prefix>:<tenantId>:id:<sha256>` (keys.ts).
   */
  keyPrefix: KeyBase
  identityTtlSeconds: number
  attributeTtlSeconds: number
  /** The tenant's planning settings (tenants file): `pageDomain`, `screens`, `mergeAnonymous`. */
  planOptions?: PlanOptions
  /** IDENTITY_MAPPING_TTL_SECONDS: anonymous visitors' state (`<keyPrefix>:<tenantId>:anon:<sha256>`). Default 30 days. */
  identityMappingTtlSeconds?: number
  /** How long an anonymous-only delivery holds its visitor's merge back at most (default 120 000 ms). */
  anonymousLeaseMs?: number
  /** Told the outcome of every merge step (the worker's `ucd_worker_identity_merges_total`). */
  onMerge?: (outcome: MergeOutcome) => void
  logger?: Logger
  /** In-process identity LRU: entries and TTL (defaults 10 000 and 30 s). */
  localIdentityMaxEntries?: number
  localIdentityTtlMs?: number
  /** Told of every lookup of an in-doubt step: `found` (checkpointed, not sent again) or `not_found`. */
  onInDoubt?: OnInDoubt
  /** Time source (epoch ms); tests only. */
  now?: () => number
  /**
   * Per-user consistency (field clocks and locks, README "Consistency"): on by default with
   * `clockTtlSeconds` 4 h + 30 d and `lockTtlMs` 30 s. `false` turns it off: for the benchmark's
   * on/off comparison only (events then land in delivery order).
   */
  consistency?: Partial<ConsistencySettings> | false
}

export interface DeliverOptions {
  /** Steps that succeeded in an earlier attempt (from `onStep` or a previous result). */
  checkpoints?: Checkpoints
  /** Called after each step succeeds, before the next starts (and for in-doubt markers, see OnStep). */
  onStep?: OnStep
  /**
   * Writes the checkpoints where the next attempt finds them (e.g. the job data), awaited before a write
   * whose answer could be lost (an event occurrence): its in-doubt marker must survive a crash after the
   * send. Without it, a marker lives only as long as the checkpoints handed back through `onStep`.
   */
  persist?: PersistCheckpoints
}

export interface DeliveryResult {
  /** The plan that was run (after a catalog refresh, the re-made one). */
  plan: Plan
  /** Every step's result, including those carried over from `options.checkpoints`. */
  checkpoints: Checkpoints
  /** Values left out of the delivery, and why (`stale`: a newer event already wrote it). */
  dropped: Dropped[]
  /** Set when the event type is not delivered (screen, alias): nothing was sent. */
  skipped?: string
}

export interface Executor {
  readonly tenantId: string
  deliver(event: SegmentEvent, options?: DeliverOptions): Promise<DeliveryResult>
}

export function createExecutor(options: ExecutorOptions): Executor {
  const { client, tenantId } = options
  const now = options.now ?? Date.now
  const logger = options.logger?.child({ tenantId })
  const withLogger = logger ? { logger } : {}
  const identities = new IdentityCache({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    tenantId,
    ttlSeconds: options.identityTtlSeconds,
    localTtlMs: options.localIdentityTtlMs ?? 30_000,
    localMaxEntries: options.localIdentityMaxEntries ?? 10_000,
    ...withLogger,
    now,
  })
  const catalog = new CatalogCache({
    client,
    redis: options.redis,
    key: tenantKey(options.keyPrefix, tenantId, 'catalog'),
    ttlSeconds: options.attributeTtlSeconds,
    ...withLogger,
    now,
  })
  const consistency =
    options.consistency === false
      ? undefined
      : new Consistency({
          clockTtlSeconds: DEFAULT_CLOCK_TTL_SECONDS,
          lockTtlMs: DEFAULT_LOCK_TTL_MS,
          ...options.consistency,
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          tenantId,
          ...withLogger,
        })
  const planOptions = options.planOptions ?? {}
  const visitors =
    planOptions.mergeAnonymous === true
      ? new AnonymousVisitors({
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          tenantId,
          ttlSeconds: options.identityMappingTtlSeconds ?? 30 * 86_400,
          leaseMs: options.anonymousLeaseMs ?? 120_000,
          now,
        })
      : undefined
  const services: DeliveryServices = {
    client,
    catalog,
    users: new UserResolver({ client, identities, ...withLogger }),
    attributes: new AttributeCreator({ client, catalog, now, ...withLogger }),
    planOptions,
    ...(visitors ? { visitors } : {}),
    ...(options.onMerge ? { onMerge: options.onMerge } : {}),
    now,
    ...(options.onInDoubt ? { onInDoubt: options.onInDoubt } : {}),
    ...withLogger,
    ...(consistency === undefined ? {} : { consistency }),
  }

  async function deliver(event: SegmentEvent, deliverOptions: DeliverOptions = {}): Promise<DeliveryResult> {
    const checkpoints = new CheckpointLog(
      deliverOptions.checkpoints,
      deliverOptions.onStep,
      deliverOptions.persist,
    )
    const plan = await new DeliveryRun(services, event, checkpoints).run()
    return {
      plan,
      checkpoints: checkpoints.all,
      dropped: plan.dropped,
      ...(plan.skipped === undefined ? {} : { skipped: plan.skipped }),
    }
  }

  return { tenantId, deliver }
}
