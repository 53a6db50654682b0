import type { Logger } from '@ucd/logger'
import type { Dropped, Plan, PlanOptions } from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'
import type { UsercomClient } from '@ucd/usercom-client'
import type { Redis } from 'ioredis'
import { AttributeBudget } from './attribute-budget'
import { CatalogCache } from './catalog-cache'
import { CheckpointLog, type Checkpoints, type OnStep } from './checkpoints'
import { DeliveryRun, type DeliveryServices } from './delivery-run'
import { IdentityCache } from './identity-cache'
import { tenantKey } from './keys'
import { deferWhilePaused, pausableClient, rateLimitOutcome } from './rate-limit-guard'
import { TenantPause } from './tenant-pause'
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
  redis: Redis
  /** Keys are `<keyPrefix>:<tenantId>:catalog` and `<keyPrefix>:<tenantId>:id:<sha256>` (keys.ts). */
  keyPrefix: string
  identityTtlSeconds: number
  attributeTtlSeconds: number
  /** The tenant's planning settings (tenants file): `pageDomain`, `screens`. */
  planOptions?: PlanOptions
  /** New attributes this tenant may create per hour window, across processes; default: no budget. */
  newAttributesPerHour?: number
  /** Least time between two catalog fetches of this tenant, across processes (default 2000 ms). */
  catalogMinFetchIntervalMs?: number
  /** How stale a process's view of the tenant's 429 pause may be (default 250 ms). */
  pauseCheckIntervalMs?: number
  logger?: Logger
  /** In-process identity LRU: entries and TTL (defaults 10 000 and 30 s). */
  localIdentityMaxEntries?: number
  localIdentityTtlMs?: number
  /** Time source (epoch ms); tests only. */
  now?: () => number
  /** A number in [0, 1) (deferral jitter); tests only. */
  random?: () => number
}

export interface DeliverOptions {
  /** Steps that succeeded in an earlier attempt (from `onStep` or a previous result). */
  checkpoints?: Checkpoints
  /** Called after each step succeeds, before the next starts: persist it (e.g. in the job data). */
  onStep?: OnStep
}

export interface DeliveryResult {
  /** The plan that was run (after a catalog refresh, the re-made one). */
  plan: Plan
  /** Every step's result, including those carried over from `options.checkpoints`. */
  checkpoints: Checkpoints
  /** Values left out of the delivery, and why. */
  dropped: Dropped[]
  /** Set when the event type is not delivered (screen, alias): nothing was sent. */
  skipped?: string
}

export interface Executor {
  readonly tenantId: string
  deliver(event: SegmentEvent, options?: DeliverOptions): Promise<DeliveryResult>
}

export function createExecutor(options: ExecutorOptions): Executor {
  const { tenantId } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const logger = options.logger?.child({ tenantId })
  const withLogger = logger ? { logger } : {}
  const pause = new TenantPause({
    redis: options.redis,
    key: tenantKey(options.keyPrefix, tenantId, 'pause'),
    ...(options.pauseCheckIntervalMs === undefined ? {} : { checkIntervalMs: options.pauseCheckIntervalMs }),
    ...withLogger,
    now,
  })
  // Every request of this tenant goes through it: none leaves while the tenant is paused.
  const client = pausableClient(options.client, pause, random)
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
    fetchStampKey: tenantKey(options.keyPrefix, tenantId, 'catalog-fetch'),
    ...(options.catalogMinFetchIntervalMs === undefined
      ? {}
      : { minFetchIntervalMs: options.catalogMinFetchIntervalMs }),
    ttlSeconds: options.attributeTtlSeconds,
    ...withLogger,
    now,
  })
  const services: DeliveryServices = {
    client,
    catalog,
    users: new UserResolver({ client, identities, ...withLogger }),
    attributes: new AttributeCreator({ client, catalog, now, ...withLogger }),
    planOptions: options.planOptions ?? {},
    ...(options.newAttributesPerHour === undefined
      ? {}
      : {
          budget: new AttributeBudget({
            redis: options.redis,
            key: tenantKey(options.keyPrefix, tenantId, 'attribute-budget'),
            perHour: options.newAttributesPerHour,
            now,
          }),
        }),
    now,
    ...withLogger,
  }

  async function deliver(event: SegmentEvent, deliverOptions: DeliverOptions = {}): Promise<DeliveryResult> {
    const checkpoints = new CheckpointLog(deliverOptions.checkpoints, deliverOptions.onStep)
    const run = new DeliveryRun(services, event, checkpoints)
    // A paused tenant's delivery waits without a request; a 429 pauses the tenant and defers this one.
    await deferWhilePaused(pause, random)
    let plan: Plan
    try {
      plan = await run.run()
    } catch (error) {
      throw await rateLimitOutcome(error, pause, random)
    }
    return {
      plan,
      checkpoints: checkpoints.all,
      dropped: plan.dropped,
      ...(plan.skipped === undefined ? {} : { skipped: plan.skipped }),
    }
  }

  return { tenantId, deliver }
}
