import type { Tenant } from '@ucd/config'
import { createExecutor } from '@ucd/delivery'
import {
  combineRateLimiters,
  createRedisRateLimiter,
  createUsercomClient,
  type RateLimiter,
} from '@ucd/usercom-client'
import type { DeliveryPortContext, DeliveryPortFactory } from './port'

/**
 * The limit on a tenant's requests to User.com: `USERCOM_MAX_RPS` over all tenants and the tenant's
 * `maxRequestsPerSecond`, each shared by every worker process through Redis (undefined when neither is set).
 */
export function requestRateLimiter(
  tenant: Tenant,
  { config, redis }: Pick<DeliveryPortContext, 'config' | 'redis'>,
): RateLimiter | undefined {
  const prefix = config.queuePrefix
  // The tenant's limit first: a request waiting for its tenant's slot would otherwise hold a global
  // slot unused meanwhile, and the global rate would overshoot once those requests went together.
  return combineRateLimiters(
    tenant.maxRequestsPerSecond === undefined
      ? undefined
      : createRedisRateLimiter(redis, {
          key: `${prefix}:rl:tenant:${tenant.id}`,
          ratePerSecond: tenant.maxRequestsPerSecond,
        }),
    config.worker.maxRps === undefined
      ? undefined
      : createRedisRateLimiter(redis, { key: `${prefix}:rl:all`, ratePerSecond: config.worker.maxRps }),
  )
}

/**
 * How long a user's (company's) consistency lock lives if its owner dies: long enough for the few
 * requests of one identify or group (each bounded by USERCOM_TIMEOUT_MS), at least 10 s.
 */
export function consistencyLockTtlMs(usercomTimeoutMs: number): number {
  return Math.max(10_000, 3 * usercomTimeoutMs)
}

/**
 * The real per-tenant delivery: a User.com client (its own keep-alive pool, the tenant's key, the
 * global and per-tenant request rate limits shared by every worker process through Redis, metrics on
 * every response) and the executor that runs each event's plan with the shared caches.
 */
export const usercomDelivery: DeliveryPortFactory = (tenant, { config, redis, metrics, logger }) => {
  if (!tenant.usercom) throw new Error(`tenant "${tenant.id}" has no User.com settings`)
  const prefix = config.queuePrefix
  const rateLimiter = requestRateLimiter(tenant, { config, redis })
  const client = createUsercomClient({
    baseUrl: tenant.usercom.baseUrl,
    apiKey: tenant.usercom.apiKey,
    timeoutMs: config.worker.usercomTimeoutMs,
    maxSockets: config.worker.maxSockets,
    rateLimiter,
    onResponse: ({ endpoint, status, durationMs }) => {
      metrics.usercomRequests.inc({ endpoint, status: String(status) })
      metrics.usercomLatency.observe({ endpoint }, durationMs / 1000)
    },
  })
  return createExecutor({
    tenantId: tenant.id,
    client,
    redis,
    keyPrefix: { prefix, shards: config.queueShards },
    identityTtlSeconds: config.worker.identityCacheTtlSeconds,
    identityMappingTtlSeconds: config.worker.identityMappingTtlSeconds,
    attributeTtlSeconds: config.worker.attributeCacheTtlSeconds,
    planOptions: {
      screens: tenant.screens,
      mergeAnonymous: tenant.mergeAnonymous,
      ...(tenant.pageDomain === undefined ? {} : { pageDomain: tenant.pageDomain }),
    },
    onInDoubt: outcome => metrics.inDoubtSteps.inc({ outcome, tenant: tenant.id }),
    onMerge: outcome => metrics.identityMerges.inc({ tenant: tenant.id, outcome }),
    logger, // the executor binds tenantId itself
    // Per-user consistency: clocks outlive every retry and every replay of a dead-letter record.
    consistency: config.worker.consistency
      ? {
          clockTtlSeconds: Math.ceil(
            config.worker.retryWindowMinutes * 60 + config.worker.dlqRetentionDays * 86_400,
          ),
          lockTtlMs: consistencyLockTtlMs(config.worker.usercomTimeoutMs),
        }
      : false,
  })
}
