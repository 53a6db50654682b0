import { isUsercomError, type UsercomClient } from '@ucd/usercom-client'
import { DeliveryDeferredError } from './errors'
import { pauseLengthMs, type TenantPause } from './tenant-pause'

// Per-tenant 429 isolation, delivery side: a 429 pauses the tenant (TenantPause, shared through Redis)
// and puts the delivery back; a delivery that starts, or a request that would leave, while the tenant
// is paused is put back too, without a request. The worker moves a deferred job to the delayed set
// without spending an attempt; other tenants' jobs and requests never wait for this one.

/** Up to this much is added to a deferral: the paused jobs do not all come back in the same instant. */
const MAX_JITTER_MS = 1000

const deferred = (waitMs: number, message: string, random: () => number): DeliveryDeferredError => {
  const jitter = Math.floor(random() * Math.min(Math.max(waitMs / 2, 100), MAX_JITTER_MS))
  return new DeliveryDeferredError('tenant_rate_limited', waitMs + jitter, message)
}

/** Throws a DeliveryDeferredError when the tenant is paused (reads Redis at most once per interval). */
export async function deferWhilePaused(pause: TenantPause, random: () => number): Promise<void> {
  const remaining = await pause.remaining()
  if (remaining > 0)
    throw deferred(remaining, `the tenant is paused by a 429 for ${remaining} ms more`, random)
}

/**
 * What a delivery throws for `error`: a 429 pauses the tenant for Retry-After (bounded) and becomes a
 * deferral; the tenant's own rate limit having no slot soon (UC_ERR_THROTTLED) becomes a deferral for
 * the wait, without pausing anyone (User.com was not asked); anything else stays as it is.
 */
export async function rateLimitOutcome(
  error: unknown,
  pause: TenantPause,
  random: () => number,
): Promise<unknown> {
  if (!isUsercomError(error) || error.kind !== 'rate_limited') return error
  const { retryAfterMs } = error as { retryAfterMs?: unknown }
  const wanted = typeof retryAfterMs === 'number' ? retryAfterMs : undefined
  if (error.status === 429) {
    const ms = wanted === undefined ? pause.defaultPauseMs() : pauseLengthMs(wanted)
    await pause.pause(ms)
    return deferred(ms, `User.com answered 429 (${error.endpoint}): the tenant pauses ${ms} ms`, random)
  }
  return deferred(Math.max(1, wanted ?? 1), error.message, random)
}

/**
 * The client with every call refused (a DeliveryDeferredError, nothing sent) while this process knows
 * the tenant is paused: a delivery under way stops at its next request instead of meeting another 429.
 */
export function pausableClient(
  client: UsercomClient,
  pause: TenantPause,
  random: () => number,
): UsercomClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || property === 'close') return value
      const call = value as (...args: unknown[]) => unknown
      return (...args: unknown[]): unknown => {
        const remaining = pause.remainingLocal()
        if (remaining > 0)
          return Promise.reject(deferred(remaining, `the tenant is paused for ${remaining} ms more`, random))
        return call.apply(target, args)
      }
    },
  })
}
