// Errors of a delivery that are not User.com's answers (those are @ucd/usercom-client's taxonomy).

/** Why a delivery was put back for later without counting as a failed attempt. */
export type DeferReason =
  /** Another delivery of the same user (or company) holds its lock: its state is being written. */
  | 'user_locked'
  /** User.com answered 429 for this tenant: its deliveries wait until the pause ends. */
  | 'tenant_rate_limited'
  /** Deliveries of the anonymous visitor about to be merged are still in flight: the merge waits for them. */
  | 'anonymous_in_flight'

/**
 * The delivery cannot go on now and should be tried again in `delayMs`. Nothing failed: the worker
 * moves the job to the delayed set without spending an attempt (BullMQ's move-to-delayed pattern),
 * and the steps that succeeded so far stay checkpointed.
 */
export class DeliveryDeferredError extends Error {
  readonly code = 'UCD_ERR_DEFERRED'
  constructor(
    readonly reason: DeferReason,
    readonly delayMs: number,
    message: string,
  ) {
    super(message)
    this.name = 'DeliveryDeferredError'
    Object.setPrototypeOf(this, new.target.prototype)
  }
}
