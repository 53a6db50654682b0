import type { Logger } from '@ucd/logger'
import type { Operation, Plan } from '@ucd/mapping'
import type { Redis } from 'ioredis'
import { DeliveryDeferredError } from '../errors'
import { companyKey, userKey } from '../keys'
import type { Step } from '../steps/context'
import { dropStale, type Clock } from './clock'
import { FieldClocks } from './field-clocks'
import { tryLock, type HeldLock } from './lock'

// Per-user consistency (issue 14): User.com ends as if each user's (and company's) state-setting
// events had been applied in event-time order, whatever order they are delivered, retried or replayed in.
//
// - Last write wins per field, on event time: every value an `upsert_user` / `upsert_company` step
//   writes has a clock (clock.ts) in the user's (company's) clock hash; a value whose stored clock is
//   newer is taken out of the body before it is sent and reported as `stale`; after User.com took the
//   write, the clocks of the values sent are recorded (field-clocks.ts).
// - One state-setting delivery per user (company) at a time, across every worker: a short lock held
//   around the read-check-write only; a delivery that finds it taken is deferred (no attempt spent).
//   Only plans with `upsert_user` / `upsert_company` lock: tracks and pages never wait.

/** A state-setting step: its body carries values of one user or one company. */
export type StateStep = Step<'upsert_user' | 'upsert_company'>

/** Never clocked nor dropped: the user's identity, not a value. */
const IDENTITY_FIELDS: ReadonlySet<string> = new Set(['custom_id'])

export interface ConsistencySettings {
  /** TTL of a clock hash, refreshed by every write: the retry window plus the DLQ retention. */
  clockTtlSeconds: number
  /** How long a lock lives if its owner dies (it is released as soon as the delivery ends). */
  lockTtlMs: number
  /** Deferral when a lock is taken: uniform in [min, max] ms (and not past the lock's expiry). */
  deferMinMs?: number
  deferMaxMs?: number
}

export interface ConsistencyOptions extends ConsistencySettings {
  redis: Redis
  keyPrefix: string
  tenantId: string
  logger?: Logger
  /** A number in [0, 1): the jitter of deferrals; tests only. */
  random?: () => number
}

/** `30 d` of DLQ retention and a `4 h` retry window: the defaults of config. */
export const DEFAULT_CLOCK_TTL_SECONDS = 240 * 60 + 30 * 86_400
export const DEFAULT_LOCK_TTL_MS = 30_000

function isStateStep(step: Operation): step is StateStep {
  return step.op === 'upsert_user' || step.op === 'upsert_company'
}

export class Consistency {
  private readonly clocks: FieldClocks

  constructor(private readonly options: ConsistencyOptions) {
    this.clocks = new FieldClocks(options.redis, options.clockTtlSeconds)
  }

  /** The key of a step's clock hash or lock. */
  private key(step: StateStep, kind: 'clock' | 'lock'): string {
    const { keyPrefix, tenantId } = this.options
    return step.op === 'upsert_user'
      ? userKey(keyPrefix, tenantId, step.customId, kind)
      : companyKey(keyPrefix, tenantId, step.companyCustomId, kind)
  }

  /** Whether a plan sets state (and so takes locks and reads clocks). */
  setsState(plan: Plan): boolean {
    return plan.steps.some(isStateStep)
  }

  /**
   * Runs `work` holding the locks of the plan's user and company (a plan without state-setting steps
   * runs at once). A lock taken elsewhere: nothing runs, DeliveryDeferredError('user_locked').
   */
  async withLocks<T>(plan: Plan, work: () => Promise<T>): Promise<T> {
    const keys = [...new Set(plan.steps.filter(isStateStep).map(step => this.key(step, 'lock')))].sort()
    const held: HeldLock[] = []
    try {
      for (const key of keys) {
        const attempt = await tryLock(this.options.redis, key, this.options.lockTtlMs)
        if (attempt.held === undefined) throw this.deferral(attempt.remainingMs)
        held.push(attempt.held)
      }
      return await work()
    } finally {
      // Released even when the work failed: a job waiting in backoff holds no lock.
      await this.releaseAll(held)
    }
  }

  private async releaseAll(held: HeldLock[]): Promise<void> {
    for (const lock of held.reverse()) {
      try {
        await lock.release()
      } catch (error) {
        // It expires by itself (lockTtlMs); the delivery's own outcome matters more.
        this.options.logger?.warn({ err: error }, 'releasing a consistency lock failed')
      }
    }
  }

  private deferral(remainingMs: number): DeliveryDeferredError {
    const min = this.options.deferMinMs ?? 25
    const max = Math.max(min, this.options.deferMaxMs ?? 250)
    const jittered = min + Math.floor((this.options.random ?? Math.random)() * (max - min + 1))
    const delayMs = Math.max(1, remainingMs > 0 ? Math.min(jittered, remainingMs) : jittered)
    return new DeliveryDeferredError(
      'user_locked',
      delayMs,
      'another delivery of this user or company is writing its state',
    )
  }

  /**
   * The plan with the values a newer event already wrote taken out of its state-setting bodies, and
   * reported in `dropped` as `stale`. Call it holding the locks.
   */
  async dropStale(plan: Plan, clock: Clock): Promise<Plan> {
    if (!this.setsState(plan)) return plan
    const dropped = [...plan.dropped]
    const steps: Operation[] = []
    for (const step of plan.steps) {
      if (!isStateStep(step)) {
        steps.push(step)
        continue
      }
      const stored = await this.clocks.read(this.key(step, 'clock'))
      const where = step.op === 'upsert_user' ? 'user' : 'company'
      const filtered = dropStale(step.body, stored, clock, where, IDENTITY_FIELDS)
      dropped.push(...filtered.stale)
      steps.push({ ...step, body: filtered.body })
    }
    return { ...plan, steps, dropped }
  }

  /** After User.com took a state-setting step's write: the clocks of the values it sent. */
  async recordWritten(step: Operation, clock: Clock): Promise<void> {
    if (!isStateStep(step)) return
    const fields = Object.keys(step.body).filter(field => !IDENTITY_FIELDS.has(field))
    await this.clocks.write(this.key(step, 'clock'), clock, fields)
  }
}
