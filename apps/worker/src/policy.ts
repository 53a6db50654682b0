import type { DeadLetterReason } from '@ucd/queue'

/**
 * The failure taxonomy of design.md, as the worker sees it. `packages/usercom-client` classifies HTTP
 * failures once (its errors carry `kind`); this module maps every kind onto what BullMQ does, and is
 * the only place that does so.
 */
export type FailureKind = 'rate_limited' | 'retryable' | 'forbidden' | 'unauthorized' | 'rejected' | 'invalid'

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

const KINDS = new Set<FailureKind>([
  'rate_limited',
  'retryable',
  'forbidden',
  'unauthorized',
  'rejected',
  'invalid',
])

interface Classified {
  kind?: unknown
  code?: unknown
  message?: unknown
  status?: unknown
  response?: unknown
  retryAfterMs?: unknown
}

/**
 * Reads a thrown value as a Failure. Errors from the User.com client and InvalidJobError carry their
 * `kind`; anything else (a Redis hiccup, a bug) is treated as retryable, so it is retried within the
 * retry window and never silently dropped.
 */
export function classify(error: unknown): Failure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Classified
  const message = typeof e.message === 'string' ? e.message : String(error)
  if (typeof e.kind === 'string' && KINDS.has(e.kind as FailureKind)) {
    return {
      kind: e.kind as FailureKind,
      code: typeof e.code === 'string' ? e.code : 'UCD_ERR_UNKNOWN',
      message,
      status: typeof e.status === 'number' ? e.status : undefined,
      response: typeof e.response === 'string' ? e.response : undefined,
      retryAfterMs: typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined,
    }
  }
  return { kind: 'retryable', code: 'UCD_ERR_INTERNAL', message }
}

export type Decision =
  /** Throw, so BullMQ retries after the backoff strategy's delay (an attempt is used). */
  | { action: 'retry' }
  /** Pause the whole queue (`worker.rateLimit`) and put the job back without using an attempt. */
  | { action: 'pause'; delayMs: number }
  /** Write a dead-letter record now; the job is done. */
  | { action: 'dead_letter'; reason: DeadLetterReason }

export const DEFAULT_RETRY_AFTER_MS = 1000
export const MAX_RETRY_AFTER_MS = 60_000

export interface DecideContext {
  /** Epoch ms of the job's first attempt. */
  firstAttemptAt: number
  now: number
  retryWindowMs: number
}

export function decide(failure: Failure, context: DecideContext): Decision {
  switch (failure.kind) {
    case 'rate_limited': {
      // `Retry-After: 0` or a past HTTP-date (0 ms) still pauses the default: a 1 ms pause would
      // burn every started attempt in a hot loop and dead-letter the event as exhausted.
      const wanted = failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS
      return {
        action: 'pause',
        delayMs: Math.min(Math.max(wanted, DEFAULT_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS),
      }
    }
    case 'retryable':
      return context.now - context.firstAttemptAt >= context.retryWindowMs
        ? { action: 'dead_letter', reason: 'exhausted' }
        : { action: 'retry' }
    case 'forbidden':
      return { action: 'dead_letter', reason: 'forbidden' }
    case 'unauthorized':
      return { action: 'dead_letter', reason: 'unauthorized' }
    case 'rejected':
      return { action: 'dead_letter', reason: 'rejected' }
    case 'invalid':
      return { action: 'dead_letter', reason: 'invalid' }
  }
}

export interface BackoffContext {
  /** Attempts made so far, the failed one included (BullMQ's `attemptsMade`, 1 after the first failure). */
  attemptsMade: number
  baseDelayMs: number
  maxDelayMs: number
  /** Milliseconds left until the retry window ends: the next try is never scheduled after it. */
  msUntilWindowEnd: number
  /** A number in [0, 1). */
  random: number
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base · 2^(n-1))], so many
 * jobs failing together do not come back together. Clamped to the end of the retry window, so the
 * last try happens at the window's end and its failure dead-letters the event as `exhausted`.
 */
export function backoffDelay(context: BackoffContext): number {
  const exponent = Math.min(Math.max(context.attemptsMade - 1, 0), 52)
  const ceiling = Math.min(context.maxDelayMs, context.baseDelayMs * 2 ** exponent)
  const delay = Math.floor(context.random * ceiling)
  return Math.max(0, Math.min(delay, Math.ceil(context.msUntilWindowEnd)))
}
