import {
  EVENT_JOB_OPTIONS,
  eventJobId,
  EventJobDataSchema,
  type DeadLetterRecord,
  type EventJobData,
} from '@ucd/queue'
import { SegmentEventSchema } from '@ucd/segment'
import {
  selectEntries,
  toEntry,
  type AdminQueues,
  type AdminShard,
  type DlqEntry,
  type Selection,
} from './store'

/** What replaying one record does (or, in a dry run, would do). */
export type ReplayPlan =
  | { readonly action: 'enqueue'; readonly jobId: string; readonly name: string; readonly data: EventJobData }
  | { readonly action: 'skip'; readonly why: string }

/**
 * The `events` job a dead-letter record goes back as: the same job id the ingest gives the event
 * (tenant + original messageId), the original event, a fresh job (no delivery state, so attempts and
 * the retry window start over) and the replay count raised. Records whose event cannot be delivered
 * as it is (an `invalid` record, a missing messageId) are skipped: replaying them would fail again.
 */
export function planReplay(record: DeadLetterRecord, at: Date): ReplayPlan {
  const event = SegmentEventSchema.safeParse(record.event)
  if (!event.success) {
    const where = event.error.issues
      .slice(0, 3)
      .map(issue => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; ')
    return { action: 'skip', why: `the event is not a valid Segment event (${where}); it would fail again` }
  }
  const candidate = {
    tenantId: record.tenantId,
    receivedAt: record.receivedAt ?? event.data.receivedAt,
    replay: { count: record.replays + 1, at: at.toISOString() },
  }
  // The event passed its schema above: only the rest of the job data is checked here.
  const data = EventJobDataSchema.omit({ event: true }).safeParse(candidate)
  if (!data.success) {
    const where = data.error.issues.map(issue => `${issue.path.join('.')}: ${issue.message}`).join('; ')
    return { action: 'skip', why: `cannot build an events job (${where})` }
  }
  return {
    action: 'enqueue',
    jobId: eventJobId(record.tenantId, event.data.messageId),
    name: event.data.type,
    // The event exactly as it was dead-lettered, not a re-serialised copy.
    data: { ...data.data, event: record.event as EventJobData['event'] },
  }
}

/** States in which a job with the event's id means the event is already on its way. */
const QUEUED_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'wait',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
])

export type ReplayOutcome = 'replayed' | 'already-queued' | 'skipped' | 'failed'

export interface ItemResult {
  readonly id: string
  readonly outcome: ReplayOutcome
  readonly record?: DeadLetterRecord
  /** The events job id it went (or would go) to. */
  readonly eventsJobId?: string
  /** Why it was skipped or failed. */
  readonly detail?: string
}

/**
 * Replays one dead-letter job. Order matters for crash safety: the events job is added (and seen
 * to be there) before the DLQ record is removed, so a process killed between the two leaves the
 * event in both places, never in neither; replaying it again then finds it already queued.
 */
export async function replayEntry(
  entry: DlqEntry,
  options: { at: Date; dryRun: boolean },
): Promise<ItemResult> {
  const { id } = entry
  // The record's own shard: its events queue has the same hash tag, so the event goes back where the
  // ingest put it (one slot, one node).
  const queues = entry.shard
  if (entry.record === undefined) return { id, outcome: 'skipped', detail: entry.problem }
  const record = entry.record
  const plan = planReplay(record, options.at)
  if (plan.action === 'skip') return { id, outcome: 'skipped', record, detail: plan.why }
  const { jobId } = plan
  const base = { id, record, eventsJobId: jobId }

  const existing = await queues.events.getJob(jobId)
  const existingState = existing ? await existing.getState() : undefined
  // The very job this record came from, still active: the worker writes the record, then completes
  // (removes) the job. Removing the record now would leave the event nowhere once it does.
  const existingReplays = (existing?.data as Partial<EventJobData> | undefined)?.replay?.count ?? 0
  if (existingState === 'active' && existingReplays <= record.replays) {
    return {
      ...base,
      outcome: 'skipped',
      detail: `events job ${jobId} is still being dead-lettered by a worker; replay it again in a moment`,
    }
  }
  const queued = existingState !== undefined && QUEUED_STATES.has(existingState)
  if (options.dryRun) {
    return queued
      ? { ...base, outcome: 'already-queued', detail: `events job ${jobId} is ${existingState}` }
      : { ...base, outcome: 'replayed' }
  }
  if (queued) {
    await removeAfterEnqueue(queues, id, jobId)
    return { ...base, outcome: 'already-queued', detail: `events job ${jobId} is ${existingState}` }
  }
  // A failed, completed-and-kept or orphaned job with this id would make BullMQ ignore the add.
  if (existing) await existing.remove()
  await queues.events.add(plan.name, plan.data, { ...EVENT_JOB_OPTIONS, jobId })
  // BullMQ ignores an add whose id exists: if someone (the ingest) queued the event in between,
  // the stored job is theirs. Either way the event is in `events`; only then is the record removed.
  const stored = await queues.events.getJob(jobId)
  const ours =
    stored === undefined || // already delivered and removed by a worker
    (stored.data.replay?.at === plan.data.replay?.at && stored.data.replay?.count === plan.data.replay?.count)
  await removeAfterEnqueue(queues, id, jobId)
  return ours
    ? { ...base, outcome: 'replayed' }
    : { ...base, outcome: 'already-queued', detail: `events job ${jobId} was queued meanwhile` }
}

/** Tries to remove a dead-letter record a few times (a Redis blip must not leave it behind). */
async function removeDeadLetter(queues: AdminShard, id: string): Promise<void> {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (attempt > 0) await new Promise(resolve => setTimeout(resolve, 200 * attempt))
    try {
      // 1: removed (or already gone); 0: locked, which a DLQ without workers never is.
      const removed = await queues.deadLetter.remove(id)
      if (removed === 1) return
      lastError = new Error(`dead-letter job ${id} is locked (is a worker consuming the DLQ?)`)
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

/** The event is in `events` but its record could not be removed: say so, so nobody replays it twice. */
async function removeAfterEnqueue(queues: AdminShard, id: string, jobId: string): Promise<void> {
  try {
    await removeDeadLetter(queues, id)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new Error(
      `enqueued as events job ${jobId}, but the record could not be removed (${why}): ` +
        `delete it with "pnpm admin dlq purge ${id} --yes"; do not replay it again`,
      { cause: error },
    )
  }
}

export interface ReplaySummary {
  dryRun: boolean
  selected: number
  replayed: number
  alreadyQueued: number
  failed: number
  skipped: number
  interrupted: boolean
  /** Why the run stopped early, when it did. */
  stoppedBecause?: string
  skips: { id: string; why: string }[]
  failures: { id: string; error: string }[]
}

export interface ReplayRunOptions {
  selection: Selection
  /** Whether invalid records met while scanning count as skipped (true when nothing filters them). */
  countInvalid: boolean
  dryRun: boolean
  /** Events per second; undefined: as fast as Redis takes them. */
  rate?: number
  now: () => Date
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  signal?: AbortSignal
  progressIntervalMs: number
  onProgress: (line: string) => void
  onItem?: (result: ItemResult) => void
}

/** Consecutive failures after which a replay stops (Redis gone, say) instead of failing every record. */
export const MAX_CONSECUTIVE_FAILURES = 10

export function progressLine(summary: ReplaySummary, done: number, elapsedMs: number): string {
  const perSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const left = summary.selected - done
  const eta = perSecond > 0 && left > 0 ? `, ~${Math.ceil(left / perSecond)}s left` : ''
  return (
    `${summary.dryRun ? 'dry run' : 'replay'}: ${done}/${summary.selected} ` +
    `(replayed ${summary.replayed}, already queued ${summary.alreadyQueued}, failed ${summary.failed}, ` +
    `skipped ${summary.skipped}), ${perSecond.toFixed(1)}/s${eta}`
  )
}

/**
 * Selects the records (ids only, so a large DLQ is not held in memory), then replays them oldest
 * first, one at a time, paced to `rate`, re-reading each record just before replaying it.
 */
export async function runReplay(queues: AdminQueues, options: ReplayRunOptions): Promise<ReplaySummary> {
  const summary: ReplaySummary = {
    dryRun: options.dryRun,
    selected: 0,
    replayed: 0,
    alreadyQueued: 0,
    failed: 0,
    skipped: 0,
    interrupted: false,
    skips: [],
    failures: [],
  }
  const skip = (id: string, why: string, record?: DeadLetterRecord): void => {
    summary.skipped += 1
    summary.skips.push({ id, why })
    options.onItem?.({ id, outcome: 'skipped', record, detail: why })
  }

  const ids: { id: string; shard: AdminShard }[] = []
  for await (const entry of selectEntries(queues, options.selection, {
    onInvalid: invalid => {
      if (!options.countInvalid) return
      summary.selected += 1
      skip(invalid.id, invalid.problem)
    },
  })) {
    ids.push({ id: entry.id, shard: entry.shard })
  }
  summary.selected += ids.length

  const started = Date.now()
  let lastProgress = started
  let consecutiveFailures = 0
  const interval = options.rate ? 1000 / options.rate : 0
  for (let i = 0; i < ids.length; i += 1) {
    if (options.signal?.aborted) {
      summary.interrupted = true
      summary.stoppedBecause = 'interrupted'
      break
    }
    if (interval > 0) {
      const wait = started + i * interval - Date.now()
      if (wait > 0) await options.sleep(wait, options.signal)
      if (options.signal?.aborted) {
        summary.interrupted = true
        summary.stoppedBecause = 'interrupted'
        break
      }
    }
    const { id, shard } = ids[i]!
    try {
      const job = await shard.deadLetter.getJob(id)
      if (!job) {
        skip(id, 'no longer in the DLQ (replayed or purged meanwhile)')
      } else {
        const result = await replayEntry(toEntry(job, shard), { at: options.now(), dryRun: options.dryRun })
        if (result.outcome === 'skipped') skip(id, result.detail ?? 'skipped', result.record)
        else {
          if (result.outcome === 'replayed') summary.replayed += 1
          else summary.alreadyQueued += 1
          options.onItem?.(result)
        }
      }
      consecutiveFailures = 0
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      summary.failed += 1
      summary.failures.push({ id, error: message })
      options.onItem?.({ id, outcome: 'failed', detail: message })
      consecutiveFailures += 1
      if (consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
        summary.stoppedBecause = `${MAX_CONSECUTIVE_FAILURES} failures in a row (last: ${message})`
        break
      }
    }
    const nowMs = Date.now()
    if (nowMs - lastProgress >= options.progressIntervalMs && i + 1 < ids.length) {
      lastProgress = nowMs
      options.onProgress(progressLine(summary, i + 1, nowMs - started))
    }
  }
  return summary
}
