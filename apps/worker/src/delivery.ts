import {
  combineRateLimiters,
  createExecutor,
  createRedisRateLimiter,
  createUsercomClient,
} from '@ucd/usercom-client'
import type { DeliveryPortFactory } from './worker'

/**
 * The real per-tenant delivery: a User.com client (its own keep-alive pool, the tenant's key, the
 * global and per-tenant request rate limits shared by every worker process through Redis, metrics on
 * every response) and the executor that runs each event's plan with the shared caches.
 */
export const usercomDelivery: DeliveryPortFactory = (tenant, { config, redis, metrics, logger }) => {
  if (!tenant.usercom) throw new Error(`tenant "${tenant.id}" has no User.com settings`)
  const prefix = config.queuePrefix
  const rateLimiter = combineRateLimiters(
    config.worker.maxRps === undefined
      ? undefined
      : createRedisRateLimiter(redis, { key: `${prefix}:rl:all`, ratePerSecond: config.worker.maxRps }),
    tenant.maxRequestsPerSecond === undefined
      ? undefined
      : createRedisRateLimiter(redis, {
          key: `${prefix}:rl:tenant:${tenant.id}`,
          ratePerSecond: tenant.maxRequestsPerSecond,
        }),
  )
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
    keyPrefix: prefix,
    identityTtlSeconds: config.worker.identityCacheTtlSeconds,
    attributeTtlSeconds: config.worker.attributeCacheTtlSeconds,
    logger: logger.child({ tenantId: tenant.id }),
  })
}
