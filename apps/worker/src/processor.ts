import { DelayedError, type Job } from 'bullmq'
import type { Config, Tenant } from '@ucd/config'
import { ATTRIBUTE_BUDGET_REASON, STALE_REASON } from '@ucd/delivery'
import type { Logger } from '@ucd/logger'
import type { Dropped } from '@ucd/mapping'
import { EventJobDataSchema, type DeliveryState, type EventJobData } from '@ucd/queue'
import type { DeadLetterWriter } from './dead-letter'
import { firstAttemptOf, invalidJobData, jobDataOf } from './job-data'
import type { WorkerMetrics } from './metrics'
import { isInDoubtKey } from '@ucd/delivery'
import { classify, decide, deferralOf, failuresAfter, InvalidJobError } from './policy'
import type { DeliveryPort } from './port'

export interface JobResult {
  outcome: 'delivered' | 'skipped' | 'dead_lettered'
  reason?: string
  /** A delivered event's values left out (field and reason, never a value), e.g. fields User.com refused or `stale` ones. */
  dropped?: readonly Dropped[]
}

export type EventJob = Job<EventJobData, JobResult, string>

export interface ProcessorDeps {
  config: Config
  logger: Logger
  metrics: WorkerMetrics
  /** The tenant's delivery (one per tenant, built on first use). */
  deliveryFor: (tenant: Tenant) => DeliveryPort
  writeDeadLetter: DeadLetterWriter
  now: () => number
}

/**
 * The job processor: parse the job, deliver its event, and map a failure onto BullMQ, here and only
 * here (policy.ts decides; this acts): dead-letter and complete, put the job back without spending an
 * attempt (a deferral, a 429), or throw for BullMQ's backoff. Progress (first attempt, checkpoints) is kept in the job data.
 */
export function createProcessor(deps: ProcessorDeps): (job: EventJob, token?: string) => Promise<JobResult> {
  const { config, logger, metrics, now } = deps
  const retryWindowMs = config.worker.retryWindowMinutes * 60_000

  async function saveProgress(job: EventJob, delivery: DeliveryState): Promise<void> {
    await job.updateData({ ...job.data, delivery })
  }

  return async (job, token) => {
    const started = now()
    const raw = jobDataOf(job.data)
    const firstAttemptAt = firstAttemptOf(raw, job.processedOn ?? started)
    const type = typeof raw.event?.type === 'string' ? raw.event.type : 'unknown'
    // The job's child logger, made on first use: most jobs log nothing at the default level, and a
    // child per job (bindings scrubbed and serialised) was a measurable share of a delivery's CPU.
    let jobLog: Logger | undefined
    const log = (): Logger =>
      (jobLog ??= logger.child({
        jobId: job.id,
        tenantId: raw.tenantId,
        messageId: raw.event?.messageId,
        type,
        attempt: job.attemptsMade + 1,
      }))
    let checkpoints: Record<string, unknown> = { ...raw.delivery?.checkpoints }
    const failuresBefore = raw.delivery?.failuresWithoutProgress
    // Set by every step that ran: a new key, or a new value under an existing one (a re-resolved user).
    // This is progress: the backoff after a failure of this attempt starts again from the base delay.
    let stepsRan = false
    // Set by any change of the checkpoints, in-doubt markers included (those are no progress).
    let changed = false
    const state = (failuresWithoutProgress: number | undefined): DeliveryState => ({
      firstAttemptAt,
      checkpoints,
      ...(failuresWithoutProgress === undefined ? {} : { failuresWithoutProgress }),
    })
    try {
      const parsed = EventJobDataSchema.safeParse(job.data)
      if (!parsed.success) throw invalidJobData(parsed.error)
      const tenant = config.tenants.byId(parsed.data.tenantId)
      if (!tenant?.usercom) {
        throw new InvalidJobError(
          'UCD_ERR_UNKNOWN_TENANT',
          `tenant "${parsed.data.tenantId}" is not configured`,
        )
      }
      const result = await deps.deliveryFor(tenant).deliver(parsed.data.event, {
        checkpoints,
        onStep: (key, value) => {
          if (value === undefined) delete checkpoints[key]
          else checkpoints[key] = value
          changed = true
          if (!isInDoubtKey(key)) stepsRan = true
        },
        // An in-doubt marker is in the job before the write leaves: a SIGKILL after it still finds it.
        persist: async all => {
          checkpoints = { ...all }
          await saveProgress(job, state(failuresBefore))
        },
      })
      const dropped = result.dropped.length > 0 ? { dropped: result.dropped } : {}
      if (result.dropped.length > 0) {
        metrics.dropped.inc({ type }, result.dropped.length)
        const stale = result.dropped.filter(d => d.reason === STALE_REASON).length
        if (stale > 0) metrics.staleDropped.inc({ tenant: parsed.data.tenantId }, stale)
        const overBudget = result.dropped.filter(d => d.reason === ATTRIBUTE_BUDGET_REASON).length
        if (overBudget > 0) metrics.attributeBudgetDropped.inc({ tenant: parsed.data.tenantId }, overBudget)
        log().info({ dropped: result.dropped }, 'values left out of the delivery')
      }
      if (result.skipped !== undefined) {
        metrics.deliveries.inc({ type, outcome: 'skipped' })
        log().info({ reason: result.skipped }, 'not delivered: not a call this destination takes')
        return { outcome: 'skipped', reason: result.skipped, ...dropped }
      }
      metrics.deliveries.inc({ type, outcome: 'delivered' })
      metrics.lag.observe(Math.max(0, now() - Date.parse(parsed.data.receivedAt)) / 1000)
      if (logger.isLevelEnabled('debug')) log().debug({ ms: now() - started }, 'delivered')
      return { outcome: 'delivered', ...dropped }
    } catch (error) {
      const progressChanged = changed || !raw.delivery?.firstAttemptAt
      const deferral = deferralOf(error)
      if (deferral !== undefined) {
        // Not a failure: back to the delayed set for a moment, no attempt spent, checkpoints kept.
        if (progressChanged) await saveProgress(job, state(failuresBefore))
        metrics.deferrals.inc({ why: deferral.why, tenant: raw.tenantId ?? 'unknown' })
        if (logger.isLevelEnabled('debug'))
          log().debug({ why: deferral.why, delayMs: deferral.delayMs }, 'deferred')
        await job.moveToDelayed(now() + deferral.delayMs, token)
        throw new DelayedError()
      }
      const failure = classify(error)
      const decision = decide(failure, { firstAttemptAt, now: now(), retryWindowMs })
      switch (decision.action) {
        case 'dead_letter':
          await deps.writeDeadLetter(job, decision.reason, failure, firstAttemptAt)
          metrics.deliveries.inc({ type, outcome: 'dead_lettered' })
          log().warn({ reason: decision.reason, code: failure.code, status: failure.status }, 'dead-lettered')
          return { outcome: 'dead_lettered', reason: decision.reason }
        case 'defer':
          // This job only: back to the delayed set, no attempt spent (never the whole queue).
          if (progressChanged) await saveProgress(job, state(failuresBefore))
          metrics.retries.inc({ kind: failure.kind, code: failure.code })
          metrics.deliveries.inc({ type, outcome: 'paused' })
          log().info({ delayMs: decision.delayMs, code: failure.code }, 'rate limited: put back for a moment')
          await job.moveToDelayed(now() + decision.delayMs, token)
          throw new DelayedError()
        case 'retry':
          // Always saved: the backoff strategy reads `failuresWithoutProgress` from the job data.
          await saveProgress(job, state(failuresAfter(failuresBefore, stepsRan)))
          metrics.retries.inc({ kind: failure.kind, code: failure.code })
          metrics.deliveries.inc({ type, outcome: 'retried' })
          log().info(
            { code: failure.code, status: failure.status, err: error },
            'delivery failed, will retry',
          )
          throw error instanceof Error ? error : new Error(failure.message)
      }
    }
  }
}
