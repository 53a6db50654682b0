import type { Logger } from '@ucd/logger'
import { planEvent, type Plan, type PlanOptions } from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'
import type { UsercomClient } from '@ucd/usercom-client'
import type { AttributeBudget } from './attribute-budget'
import type { CatalogCache, CatalogSnapshot } from './catalog-cache'
import type { CheckpointLog } from './checkpoints'
import { assertPathSafe } from './path-safety'
import type { ReplanReason, StepContext } from './steps/context'
import type { AttributeCreator } from './steps/ensure-attribute'
import { runStep } from './steps/index'
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
//
// Budget: at most one catalog refresh and one re-plan per delivery. `runSteps` asks for a re-plan only
// while the budget allows it; otherwise the step's failure stands (a 400) or the run goes on (an
// attribute of another type: its values were converted with what the plan knew). A re-run skips the
// steps already checkpointed, so it resumes where the first run stopped.

/** What every delivery of one executor shares: the client, the caches, the single-flight runners. */
export interface DeliveryServices {
  client: UsercomClient
  catalog: CatalogCache
  users: UserResolver
  attributes: AttributeCreator
  /** The tenant's planning settings, the same for every plan of every delivery. */
  planOptions: PlanOptions
  /** The tenant's new-attribute budget (issue 18): applied to every plan before its steps run. */
  budget?: AttributeBudget
  now: () => number
  logger?: Logger
}

type RunOutcome = { status: 'done' } | { status: 'needs_replan'; reason: ReplanReason }

/** Only identify and group put custom attributes into their bodies: only they read the catalog. */
const usesCatalog = (event: SegmentEvent): boolean => event.type === 'identify' || event.type === 'group'

export class DeliveryRun {
  private readonly startedAt: number
  /** The catalog the current plan was made from (undefined: the event needs none). */
  private snapshot: CatalogSnapshot | undefined
  private catalogRefreshed = false
  private replanned = false

  constructor(
    private readonly services: DeliveryServices,
    private readonly event: SegmentEvent,
    private readonly checkpoints: CheckpointLog,
  ) {
    this.startedAt = services.now()
  }

  /** Runs the delivery; returns the plan that ran last. Throws the failure of the step that failed. */
  async run(): Promise<Plan> {
    let plan = await this.planWithCatalog()
    if (plan.skipped !== undefined) return plan
    if (this.catalogPredatesDelivery() && this.createsAttributes(plan)) {
      // Another worker may have made the attribute since the catalog was cached.
      plan = await this.refreshCatalogOnce('the cached catalog predates this delivery')
    }
    // Seam: per-user consistency (issue 14) takes the user's lock around the runs of a state-setting delivery.
    let outcome = await this.runSteps(plan)
    if (outcome.status === 'needs_replan') {
      plan = await this.replanOnce(plan, outcome.reason)
      outcome = await this.runSteps(plan)
    }
    // `runSteps` asks for a re-plan only while the budget allows one, and replanOnce spends it.
    if (outcome.status === 'needs_replan')
      throw new Error(`second re-plan asked for (${outcome.reason.kind})`)
    return plan
  }

  /** This event's plan with `catalog` and the tenant's planning settings. */
  private plan(catalog: CatalogSnapshot['attributes']): Plan {
    return planEvent(this.event, catalog, this.services.planOptions)
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

  /** Plans the rest of the delivery again (once per delivery), or lets the failure that asked stand. */
  private async replanOnce(plan: Plan, reason: ReplanReason): Promise<Plan> {
    if (this.replanned) throw new Error(`second re-plan asked for (${reason.kind})`)
    switch (reason.kind) {
      case 'attribute_type_differs':
        // It existed with another type: convert the values again with the real catalog.
        this.replanned = true
        return this.plan((await this.services.catalog.get()).attributes)
      case 'body_rejected': {
        const fresh = await this.refreshCatalogOnce('a body built from the cached catalog was rejected')
        // The same plan would be rejected the same way: a fresh catalog does not explain the 400.
        if (JSON.stringify(fresh.steps) === JSON.stringify(plan.steps)) throw reason.error
        this.replanned = true
        this.services.logger?.info(
          { messageId: this.event.messageId },
          'rejected with a cached catalog; re-planned with a fresh one',
        )
        return fresh
      }
    }
  }

  /** Whether a step's reason may re-plan now: one re-plan per delivery; a 400 also needs the refresh. */
  private mayReplan(reason: ReplanReason): boolean {
    if (this.replanned) return false
    switch (reason.kind) {
      case 'attribute_type_differs':
        return true
      case 'body_rejected':
        return this.snapshot !== undefined && !this.catalogRefreshed
    }
  }

  /** Runs the plan's steps in order, skipping those checkpointed; stops when one asks for a re-plan. */
  private async runSteps(plan: Plan): Promise<RunOutcome> {
    const { client, users, attributes, logger } = this.services
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
      ...(logger ? { logger } : {}),
    }
    for (const step of plan.steps) {
      if (this.checkpoints.has(step.key)) continue
      const outcome = await runStep(step, context)
      // The one place a step's result is checkpointed (a retry resumes from here).
      if (outcome.succeeded) await this.checkpoints.save(step.key, outcome.result)
      if (outcome.replan === undefined) continue
      if (this.mayReplan(outcome.replan)) return { status: 'needs_replan', reason: outcome.replan }
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
