import { DeliveryDeferredError, type DeferReason } from '@ucd/delivery'
import type { DeadLetterReason } from '@ucd/queue'
import { isUsercomError, type UsercomErrorKind, type UsercomRateLimitedError } from '@ucd/usercom-client'

/**
 * The failure taxonomy of design.md, as the worker sees it. `packages/usercom-client` classifies HTTP
 * failures once (its errors carry `kind`); this module maps every kind onto what BullMQ does, and is
 * the only place that does so.
 */
export type FailureKind = UsercomErrorKind | 'invalid'

export interface Failure {
  kind: FailureKind
  code: string
  message: string
  status?: number
  /** Response body, truncated and scrubbed by the client. */
  response?: string
  retryAfterMs?: number
}

/** An event the worker cannot deliver whatever User.com says: bad job data, unknown tenant. */
export class InvalidJobError extends Error {
  readonly kind = 'invalid' as const
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'InvalidJobError'
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

/**
 * Reads a thrown value as a Failure: an error of the User.com client (`isUsercomError`) by its kind, an
 * InvalidJobError as `invalid`; anything else (a Redis hiccup, a bug) is retryable, so it is retried
 * within the retry window and never silently dropped.
 */
export function classify(error: unknown): Failure {
  const message = messageOf(error)
  if (isUsercomError(error)) {
    // Read defensively: an error from another copy of the client (another realm) is a plain object.
    const { retryAfterMs } = error as Partial<UsercomRateLimitedError>
    return {
      kind: error.kind,
      code: error.code,
      message,
      status: typeof error.status === 'number' ? error.status : undefined,
      response: typeof error.response === 'string' ? error.response : undefined,
      retryAfterMs: typeof retryAfterMs === 'number' ? retryAfterMs : undefined,
    }
  }
  if (error instanceof InvalidJobError) return { kind: 'invalid', code: error.code, message }
  return { kind: 'retryable', code: 'UCD_ERR_INTERNAL', message }
}

/** The message of whatever was thrown (an Error's, a plain object's `message`, else the value as text). */
function messageOf(error: unknown): string {
  const { message } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown }
  return typeof message === 'string' ? message : String(error)
}

export type Decision =
  /** Throw, so BullMQ retries after the backoff strategy's delay (an attempt is used). */
  | { action: 'retry' }
  /**
   * Put the job back for `delayMs` without using an attempt (a 429 that reached the worker: the
   * delivery pauses its tenant itself; the queue and the other tenants never wait).
   */
  | { action: 'defer'; delayMs: number }
  /** Write a dead-letter record now; the job is done. */
  | { action: 'dead_letter'; reason: DeadLetterReason }

/** Nothing failed, the delivery must wait: move the job to delayed for `delayMs`, no attempt used. */
export interface Deferral {
  delayMs: number
  why: DeferReason
}

export const DEFAULT_RETRY_AFTER_MS = 1000
export const MAX_RETRY_AFTER_MS = 60_000

export interface DecideContext {
  /** Epoch ms of the job's first attempt. */
  firstAttemptAt: number
  now: number
  retryWindowMs: number
}

/**
 * A delivery that asked to wait (DeliveryDeferredError: a user's lock is taken, the tenant is paused
 * by a 429) is no failure: it is deferred, without spending an attempt. Anything else: undefined.
 */
export function deferralOf(error: unknown): Deferral | undefined {
  if (!(error instanceof DeliveryDeferredError)) return undefined
  const delayMs = Number.isFinite(error.delayMs)
    ? Math.max(1, Math.ceil(error.delayMs))
    : DEFAULT_RETRY_AFTER_MS
  return { delayMs: Math.min(delayMs, MAX_RETRY_AFTER_MS), why: error.reason }
}

/**
 * The job's `failuresWithoutProgress` after a failed attempt: 0 when it saved a new checkpoint, else
 * one more than before (a job without the count, written before it existed, starts from 0).
 */
export function failuresAfter(previous: number | undefined, progressed: boolean): number {
  return progressed ? 0 : (previous ?? 0) + 1
}

export function decide(failure: Failure, context: DecideContext): Decision {
  switch (failure.kind) {
    case 'rate_limited': {
      // Only this job waits (moved to delayed), never the queue: other tenants keep their throughput.
      // `Retry-After: 0` or a past HTTP-date (0 ms) still pauses the default: a 1 ms pause would
      // burn every started attempt in a hot loop and dead-letter the event as exhausted.
      const wanted = failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS
      return {
        action: 'defer',
        delayMs: Math.min(Math.max(wanted, DEFAULT_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS),
      }
    }
    case 'retryable':
      return context.now - context.firstAttemptAt >= context.retryWindowMs
        ? { action: 'dead_letter', reason: 'exhausted' }
        : { action: 'retry' }
    case 'forbidden':
    case 'unauthorized':
    case 'rejected':
    case 'invalid':
      // Dead-lettered at once, under the kind's own name (DEAD_LETTER_KINDS, plus `invalid`).
      return { action: 'dead_letter', reason: failure.kind }
  }
}

export interface BackoffContext {
  /**
   * Consecutive failed attempts without progress, the failed one included (1 after a first failure
   * that saved nothing); 0 when the failed attempt saved a new checkpoint.
   */
  failuresWithoutProgress: number
  baseDelayMs: number
  maxDelayMs: number
  /** Milliseconds left until the retry window ends: the next try is never scheduled after it. */
  msUntilWindowEnd: number
  /** A number in [0, 1). */
  random: number
}

/**
 * Exponential backoff with full jitter over failures without progress: a uniform delay in
 * [0, min(cap, base · 2^(n-1))], n = consecutive failed attempts that saved no new checkpoint, so an
 * attempt that made progress (n = 0) retries within the base delay, and many jobs failing together do
 * not come back together. Clamped to the end of the retry window, so the last try happens at the
 * window's end and its failure dead-letters the event as `exhausted`.
 */
export function backoffDelay(context: BackoffContext): number {
  const exponent = Math.min(Math.max(context.failuresWithoutProgress - 1, 0), 52)
  const ceiling = Math.min(context.maxDelayMs, context.baseDelayMs * 2 ** exponent)
  const delay = Math.floor(context.random * ceiling)
  return Math.max(0, Math.min(delay, Math.ceil(context.msUntilWindowEnd)))
}
