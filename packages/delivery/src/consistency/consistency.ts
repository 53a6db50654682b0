import type { Logger } from '@ucd/logger'
import type { Operation, Plan } from '@ucd/mapping'
import type { Cluster, Redis } from 'ioredis'
import { DeliveryDeferredError } from '../errors'
import { companyKey, userKey, type KeyBase } from '../keys'
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

/**
 * What a delivery holds, by clock key: the lock of that user (company), the fields it checked against
 * the clock hash and those of them a newer event wrote (`stale`), kept current by its own writes.
 * While it holds the lock no other delivery writes those clocks, so re-plans and later steps need no
 * second read (a field not yet checked is read then).
 */
export type HeldClocks = Map<string, { lock: HeldLock; checked: Set<string>; stale: Set<string> }>

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
  redis: Redis | Cluster
  keyPrefix: KeyBase
  tenantId: string
  logger?: Logger
  /** A number in [0, 1): the jitter of deferrals; tests only. */
  random?: () => number
}

/** `30 d` of DLQ retention and a `4 h` retry window: the defaults of config. */
export const DEFAULT_CLOCK_TTL_SECONDS = 240 * 60 + 30 * 86_400
export const DEFAULT_LOCK_TTL_MS = 30_000

/** The fields of a state-setting step's body that have clocks (all but its identity). */
function clockedFields(step: StateStep): string[] {
  return Object.keys(step.body).filter(field => !IDENTITY_FIELDS.has(field))
}

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
   * runs at once). A lock taken elsewhere: nothing runs, DeliveryDeferredError('user_locked'). Each
   * lock is taken in one round trip with the check of the plan's fields against its clock hash; what
   * was checked (and found stale) is handed to `work`.
   */
  async withLocks<T>(plan: Plan, clock: Clock, work: (held: HeldClocks) => Promise<T>): Promise<T> {
    // lock key → its clock key and the fields of the plan's steps that write that user (company)
    const wanted = new Map<string, { clockKey: string; fields: Set<string> }>()
    for (const step of plan.steps.filter(isStateStep)) {
      const lockKey = this.key(step, 'lock')
      const entry = wanted.get(lockKey) ?? { clockKey: this.key(step, 'clock'), fields: new Set() }
      for (const field of clockedFields(step)) entry.fields.add(field)
      wanted.set(lockKey, entry)
    }
    const locks: HeldLock[] = []
    const held: HeldClocks = new Map()
    try {
      for (const [lockKey, { clockKey, fields }] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const check = { key: clockKey, clock, fields: [...fields] }
        const attempt = await tryLock(this.options.redis, lockKey, this.options.lockTtlMs, check)
        if (attempt.held === undefined) throw this.deferral(attempt.remainingMs)
        locks.push(attempt.held)
        held.set(clockKey, { lock: attempt.held, checked: fields, stale: new Set(attempt.held.stale) })
      }
      return await work(held)
    } finally {
      // Released even when the work failed: a job waiting in backoff holds no lock.
      await this.releaseAll(locks)
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
   * reported in `dropped` as `stale`. Call it holding the locks, with what they checked (a field not
   * checked yet is read from Redis).
   */
  async dropStale(plan: Plan, clock: Clock, held?: HeldClocks): Promise<Plan> {
    if (!this.setsState(plan)) return plan
    const dropped = [...plan.dropped]
    const steps: Operation[] = []
    for (const step of plan.steps) {
      if (!isStateStep(step)) {
        steps.push(step)
        continue
      }
      const stale = await this.staleFields(step, clock, held)
      const filtered = dropStale(step.body, stale, step.op === 'upsert_user' ? 'user' : 'company')
      dropped.push(...filtered.stale)
      steps.push({ ...step, body: filtered.body })
    }
    return { ...plan, steps, dropped }
  }

  /** The fields of a step's body a newer event wrote: from what the locks checked, else from Redis. */
  private async staleFields(step: StateStep, clock: Clock, held?: HeldClocks): Promise<Set<string>> {
    const key = this.key(step, 'clock')
    const fields = clockedFields(step)
    const entry = held?.get(key)
    const unchecked = entry === undefined ? fields : fields.filter(field => !entry.checked.has(field))
    const stale = new Set<string>()
    if (unchecked.length > 0) {
      for (const field of await this.clocks.stale(key, clock, unchecked)) {
        stale.add(field)
        entry?.stale.add(field)
      }
      for (const field of unchecked) entry?.checked.add(field)
    }
    for (const field of fields) if (entry?.stale.has(field) === true) stale.add(field)
    return stale
  }

  /**
   * Before a state-setting step runs under `held`: its lock must still be held. A lock the delivery
   * gave back early (its last write of that user, `recordWritten`) is not taken again in the same
   * run: the delivery is deferred and resumes from its checkpoints holding the lock anew.
   */
  assertHeld(step: Operation, held: HeldClocks | undefined): void {
    if (held === undefined || !isStateStep(step)) return
    if (held.get(this.key(step, 'clock'))?.lock.isReleased === true) throw this.deferral(0)
  }

  /**
   * After User.com took a state-setting step's write: the clocks of the values it sent, in Redis and
   * in the clocks the delivery holds. When no step in `rest` (the plan's steps after this one) writes
   * the same user (company), the lock is given back in the same round trip.
   */
  async recordWritten(
    step: Operation,
    clock: Clock,
    held?: HeldClocks,
    rest: readonly Operation[] = [],
  ): Promise<void> {
    if (!isStateStep(step)) return
    const key = this.key(step, 'clock')
    const fields = clockedFields(step)
    const entry = held?.get(key)
    const last = entry !== undefined && !rest.some(s => isStateStep(s) && this.key(s, 'clock') === key)
    const lock = last && !entry.lock.isReleased ? entry.lock : undefined
    await this.clocks.write(
      key,
      clock,
      fields,
      lock === undefined ? undefined : { lockKey: lock.key, token: lock.token },
    )
    lock?.releasedBy()
    // Fields it wrote hold its own clock now: not stale for it (they were not, or they were not sent).
    for (const field of fields) entry?.checked.add(field)
  }
}
