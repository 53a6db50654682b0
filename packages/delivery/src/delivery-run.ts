import type { Logger } from '@ucd/logger'
import { planEvent, type Plan, type PlanOptions } from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'
import type { UsercomClient } from '@ucd/usercom-client'
import type { AttributeBudget } from './attribute-budget'
import type { CatalogCache, CatalogSnapshot } from './catalog-cache'
import type { CheckpointLog } from './checkpoints'
import type { OnInDoubt } from './in-doubt'
import { eventClock, type Clock } from './consistency/clock'
import type { Consistency, HeldClocks } from './consistency/consistency'
import type { BodyRejected, ReplanReason, StepContext } from './steps/context'
import type { MergeOutcome } from './identity/merge'
import type { AnonymousVisitors } from './identity/visitors'
import { assertPathSafe } from './path-safety'
import type { AttributeCreator } from './steps/ensure-attribute'
import { runStep } from './steps/index'
import { PartialAcceptance } from './steps/partial-acceptance'
import type { UserResolver } from './user-resolver'

// One delivery of one event, as a bounded state machine:
//
//   planWithCatalog ─▶ (skipped: done, nothing sent)
//        │ the cached catalog predates this delivery and the plan creates attributes:
//        │   refreshCatalogOnce, plan again
//        ▼
//   runSteps(plan) ─────────────────────────────────▶ done
//        │ needs re-plan (reason), if the budget allows
//        ▼
//   replanOnce(reason) ─▶ runSteps(new plan) ───────▶ done
//        │ a 400 (body_rejected) that a fresh catalog does not explain, naming fields of the body:
//        ▼
//   acceptPart(step) ─▶ runSteps(plan without them) ─▶ done      (steps/partial-acceptance.ts)
//
// A plan that sets a user's or company's state (upsert_user, upsert_company) runs holding their locks,
// with the values a newer event already wrote taken out (consistency/): before each runSteps, and the
// clocks of what was sent recorded after each such step succeeds.
//
// Budget: at most one catalog refresh and one re-plan per delivery, and one partial acceptance per step
// (a user, a company, an event). `runSteps` asks for a re-plan only while a budget allows it; otherwise
// the step's failure stands (a 400) or the run goes on (an attribute of another type: its values were
// converted with what the plan knew). A re-run skips the steps already checkpointed, so it resumes
// where the first run stopped.

/** What every delivery of one executor shares: the client, the caches, the single-flight runners. */
export interface DeliveryServices {
  client: UsercomClient
  catalog: CatalogCache
  users: UserResolver
  attributes: AttributeCreator
  /** The tenant's planning settings, the same for every plan of every delivery. */
  planOptions: PlanOptions
  /** Anonymous visitors' identity state; undefined when the tenant does not merge (mergeAnonymous). */
  visitors?: AnonymousVisitors
  onMerge?: (outcome: MergeOutcome) => void
  /** The tenant's new-attribute budget (issue 18): applied to every plan before its steps run. */
  budget?: AttributeBudget
  now: () => number
  /** Told of every lookup of an in-doubt step (metrics). */
  onInDoubt?: OnInDoubt
  logger?: Logger
  /** Per-user consistency (locks, field clocks); undefined: off (the benchmark's comparison only). */
  consistency?: Consistency
}

type RunOutcome =
  { status: 'done' } | { status: 'needs_replan'; reason: ReplanReason; step: Plan['steps'][number] }

/** Only identify and group put custom attributes into their bodies: only they read the catalog. */
const usesCatalog = (event: SegmentEvent): boolean => event.type === 'identify' || event.type === 'group'

export class DeliveryRun {
  private readonly startedAt: number
  /** This event's time and messageId: the clock of every value it writes. */
  private readonly clock: Clock
  /** The catalog the current plan was made from (undefined: the event needs none). */
  private snapshot: CatalogSnapshot | undefined
  private catalogRefreshed = false
  private replanned = false
  /** The fields 400s refused so far, applied to every plan (once per step). */
  private readonly partial = new PartialAcceptance()
  /** The catalog the current plan was made with (to make it again without refused fields). */
  private planCatalog: CatalogSnapshot['attributes'] = []
  private planOptions: PlanOptions

  constructor(
    private readonly services: DeliveryServices,
    private event: SegmentEvent,
    private readonly checkpoints: CheckpointLog,
  ) {
    this.startedAt = services.now()
    this.clock = eventClock(event)
    this.planOptions = services.planOptions
  }

  /** Runs the delivery; returns the plan that ran last. Throws the failure of the step that failed. */
  async run(): Promise<Plan> {
    const lease = await this.enterAnonymous()
    try {
      return await this.runPlanned()
    } finally {
      if (lease !== undefined) await this.leaveAnonymous(lease)
    }
  }

  /**
   * An anonymous-only event of a tenant that merges: when its anonymousId maps to a userId, it is
   * delivered to that user (as if it carried the userId); otherwise it takes a lease that holds back
   * the visitor's merge until this delivery is over, and the anonymousId is marked as one this product
   * made a user from. Returns the anonymousId whose lease to give back.
   */
  private async enterAnonymous(): Promise<string | undefined> {
    const { visitors, logger } = this.services
    const { userId, anonymousId, messageId } = this.event
    if (visitors === undefined || userId !== undefined || anonymousId === undefined) return undefined
    const mapped = await visitors.enter(anonymousId, messageId)
    if (mapped === null) return anonymousId
    logger?.debug({ messageId }, 'anonymousId maps to an identified user: delivered to that user')
    this.event = { ...this.event, userId: mapped }
    // The mapping exists already: this event has nothing to merge.
    this.planOptions = { ...this.planOptions, mergeAnonymous: false }
    return undefined
  }

  private async leaveAnonymous(anonymousId: string): Promise<void> {
    try {
      await this.services.visitors?.leave(anonymousId, this.event.messageId)
    } catch (error) {
      // The lease expires by itself; only a merge waits a little longer.
      this.services.logger?.warn({ err: error }, 'could not give back an anonymous delivery lease')
    }
  }

  private async runPlanned(): Promise<Plan> {
    let plan = await this.planWithCatalog()
    if (plan.skipped !== undefined) return plan
    if (this.catalogPredatesDelivery() && this.createsAttributes(plan)) {
      // Another worker may have made the attribute since the catalog was cached.
      plan = await this.refreshCatalogOnce('the cached catalog predates this delivery')
    }
    // Per-user consistency (issue 14): the user's and company's locks around the runs of a state-setting plan.
    const { consistency } = this.services
    if (consistency === undefined || !consistency.setsState(plan)) return this.runPlan(plan)
    return consistency.withLocks(plan, this.clock, held => this.runPlan(plan, held))
  }

  /** Runs a plan and its re-plans; returns the plan that ran last, as sent (stale values out). */
  private async runPlan(planned: Plan, held?: HeldClocks): Promise<Plan> {
    let plan = planned
    let sent = await this.withoutStale(plan, held)
    let outcome = await this.runSteps(sent, held)
    // Bounded: `runSteps` asks only while a budget allows, and each pass spends one (replanned, a
    // catalog refresh, or a step's one partial acceptance); the plan has a handful of steps.
    while (outcome.status === 'needs_replan') {
      plan = await this.replanOnce(plan, outcome.reason, outcome.step)
      sent = await this.withoutStale(plan, held)
      outcome = await this.runSteps(sent, held)
    }
    return sent
  }

  /** The plan without the values a newer event already wrote (reported `stale`); as is when off. */
  private withoutStale(plan: Plan, held: HeldClocks | undefined): Promise<Plan> {
    const { consistency } = this.services
    return consistency === undefined ? Promise.resolve(plan) : consistency.dropStale(plan, this.clock, held)
  }

  /** This event's plan with `catalog` and the tenant's planning settings, minus what 400s refused. */
  private plan(catalog: CatalogSnapshot['attributes']): Plan {
    this.planCatalog = catalog
    return this.partial.apply(planEvent(this.event, catalog, this.planOptions))
  }

  /** The plan, from the cached catalog for events that use one. */
  private async planWithCatalog(): Promise<Plan> {
    this.snapshot = usesCatalog(this.event) ? await this.services.catalog.get() : undefined
    return this.plan(this.snapshot?.attributes ?? [])
  }

  /** Fetches the catalog from User.com (once per delivery) and plans again with it. */
  private async refreshCatalogOnce(reason: string): Promise<Plan> {
    if (this.catalogRefreshed) throw new Error(`second catalog refresh asked for (${reason})`)
    this.catalogRefreshed = true
    this.services.logger?.debug({ messageId: this.event.messageId, reason }, 'refreshing the catalog')
    this.snapshot = await this.services.catalog.refresh()
    return this.plan(this.snapshot.attributes)
  }

  /**
   * Plans the rest of the delivery again, or lets the failure that asked stand. A 400 first refreshes
   * the catalog (once per delivery, when the body was built from a cached one); when that changes
   * nothing, the fields it named leave the step's body (once per step).
   */
  private async replanOnce(plan: Plan, reason: ReplanReason, step: Plan['steps'][number]): Promise<Plan> {
    switch (reason.kind) {
      case 'attribute_type_differs':
        if (this.replanned) throw new Error(`second re-plan asked for (${reason.kind})`)
        // It existed with another type: convert the values again with the real catalog.
        this.replanned = true
        return this.plan((await this.services.catalog.get()).attributes)
      case 'body_rejected': {
        if (this.mayRefreshForRejection()) {
          const fresh = await this.refreshCatalogOnce('a body built from the cached catalog was rejected')
          // The same plan would be rejected the same way: a fresh catalog does not explain the 400.
          if (JSON.stringify(fresh.steps) !== JSON.stringify(plan.steps)) {
            this.replanned = true
            this.services.logger?.info(
              { messageId: this.event.messageId },
              'rejected with a cached catalog; re-planned with a fresh one',
            )
            return fresh
          }
        }
        return this.acceptPart(step, reason)
      }
    }
  }

  /** The plan without the fields the 400 named (reported in `dropped`), or the 400 stands. */
  private acceptPart(step: Plan['steps'][number], reason: BodyRejected): Plan {
    if (!this.partial.accept(step, reason.error)) throw reason.error
    const next = this.plan(this.planCatalog)
    this.services.logger?.info(
      {
        messageId: this.event.messageId,
        step: step.key,
        refused: Object.keys(reason.error.fieldErrors ?? {}),
      },
      'User.com refused fields of the body; sending the rest once more',
    )
    return next
  }

  /** A 400 on a body built from a cached catalog may refresh it (once) and re-plan (once per delivery). */
  private mayRefreshForRejection(): boolean {
    return !this.replanned && this.snapshot !== undefined && !this.catalogRefreshed
  }

  /** Whether a step's reason may re-plan now (see the budget above). */
  private mayReplan(reason: ReplanReason, step: Plan['steps'][number]): boolean {
    switch (reason.kind) {
      case 'attribute_type_differs':
        return !this.replanned
      case 'body_rejected':
        return this.mayRefreshForRejection() || this.partial.accepts(step, reason.error)
    }
  }

  /** Runs the plan's steps in order, skipping those checkpointed; stops when one asks for a re-plan. */
  private async runSteps(plan: Plan, held: HeldClocks | undefined): Promise<RunOutcome> {
    const { client, users, attributes, now, onInDoubt, visitors, onMerge, logger } = this.services
    // No id that would change a request path is sent (issue 18): the event is refused whole, as invalid.
    assertPathSafe(plan)
    // Attributes beyond the tenant's budget are not created; their values leave the plan (reported).
    await this.services.budget?.apply(plan, key => this.checkpoints.has(key))
    const context: StepContext = {
      client,
      users,
      attributes,
      checkpoints: this.checkpoints,
      plan,
      now,
      ...(onInDoubt ? { onInDoubt } : {}),
      ...(visitors ? { visitors } : {}),
      ...(onMerge ? { onMerge } : {}),
      ...(logger ? { logger } : {}),
    }
    for (const [index, step] of plan.steps.entries()) {
      if (this.checkpoints.has(step.key)) continue
      this.services.consistency?.assertHeld(step, held)
      const outcome = await runStep(step, context)
      if (outcome.succeeded) {
        // The clocks of the values sent, before the checkpoint: a retry that skips the step has them.
        // The user's lock goes back with them when no later step writes that user.
        const rest = plan.steps.slice(index + 1).filter(later => !this.checkpoints.has(later.key))
        await this.services.consistency?.recordWritten(step, this.clock, held, rest)
        // The one place a step's result is checkpointed (a retry resumes from here).
        await this.checkpoints.save(step.key, outcome.result)
      }
      if (outcome.replan === undefined) continue
      if (this.mayReplan(outcome.replan, step))
        return { status: 'needs_replan', reason: outcome.replan, step }
      if (!outcome.succeeded) throw outcome.replan.error
    }
    return { status: 'done' }
  }

  private catalogPredatesDelivery(): boolean {
    return this.snapshot !== undefined && this.snapshot.fetchedAt < this.startedAt
  }

  /** Whether the plan still has an attribute to create (one an earlier attempt created is checkpointed). */
  private createsAttributes(plan: Plan): boolean {
    return plan.steps.some(s => s.op === 'ensure_attribute' && !this.checkpoints.has(s.key))
  }
}
