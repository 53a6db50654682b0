import type { BenchResults, DrainRun, TargetCheck } from './results'
import { medianBy, ratio } from './stats'

/** The limits. 200 MB is read as 200 MiB. */
export const LIMITS = {
  ingestBatchVsAddBulk: 0.5,
  workerVsBareAtZeroLatency: 0.7,
  workerVsIdealAt200: 0.8,
  redisBytesPerWaitingEvent: 2048,
  redisBytesPerDedupeMarker: 150,
  workerRssAt200: 200 * 1024 * 1024,
  /** Issue 18: hostile strings cost at most this per event, normalised or planned. */
  fuzzMsPerEvent: 5,
  /** Identify throughput with per-user consistency on, vs off (issue 14). */
  consistencyOnVsOff: 0.85,
  /** Issue 20: /v1/track (linger on, 100 connections) over the addBulk(1 job) ceiling of the same run. */
  trackVsAddBulkCeiling: 0.6,
  /** Issue 20: /v1/batch over its addBulk(100 jobs) ceiling of the same run. */
  batchVsAddBulkCeiling: 0.55,
  /** Issue 20: p99 of /v1/track, ms (open loop at 60 % of the ceiling; the saturated closed loop is shown too). */
  trackP99Ms: 20,
  /** Issue 18: the ingest's event-loop delay while it takes maximal batches, ms. */
  maxBatchEventLoopDelayMs: 50,
  /** Issue 18: tenant B's throughput while tenant A is answered 429, vs B alone. */
  isolationBVsAlone: 0.8,
} as const

/** The median round of one worker configuration (by events/s), or undefined when it did not run. */
export function pickRun(
  runs: readonly DrainRun[],
  impl: DrainRun['impl'],
  latencyMs: number,
  concurrency: number,
  processes = 1,
): DrainRun | undefined {
  return medianBy(
    runs.filter(
      r =>
        r.impl === impl &&
        r.latencyMs === latencyMs &&
        r.concurrency === concurrency &&
        r.processes === processes,
    ),
    r => r.eventsPerSec,
  )
}

const find = (runs: readonly DrainRun[], impl: DrainRun['impl'], latencyMs: number, concurrency: number) =>
  pickRun(runs, impl, latencyMs, concurrency)

function check(
  id: string,
  description: string,
  measured: number | undefined,
  comparison: TargetCheck['comparison'],
  limit: number,
  unit: TargetCheck['unit'],
): TargetCheck {
  const status =
    measured === undefined
      ? 'N/A'
      : (comparison === '>=' ? measured >= limit : measured <= limit)
        ? 'PASS'
        : 'MISS'
  return { id, description, measured, limit, comparison, unit, status }
}

/** Every target of the issue, checked against what the run measured (N/A for a section not run). */
export function checkTargets(
  results: Pick<
    BenchResults,
    'ingest' | 'worker' | 'memory' | 'fuzz' | 'consistency' | 'linger' | 'isolation'
  >,
): TargetCheck[] {
  const checks: TargetCheck[] = []
  const batch = results.ingest?.batch
  checks.push(
    check(
      'ingest-batch-vs-addbulk',
      'ingest /v1/batch events/s vs bare addBulk',
      ratio(batch?.ingest.eventsPerSec, batch?.bareAddBulk.eventsPerSec),
      '>=',
      LIMITS.ingestBatchVsAddBulk,
      'ratio',
    ),
  )
  const runs = results.worker?.runs ?? []
  const zeroLatency = [...new Set(runs.filter(r => r.latencyMs === 0).map(r => r.concurrency))].sort(
    (a, b) => a - b,
  )
  for (const concurrency of zeroLatency.length > 0 ? zeroLatency : [1, 10, 50, 200]) {
    checks.push(
      check(
        `worker-vs-bare-0ms-c${concurrency}`,
        `worker vs bare worker, 0 ms, concurrency ${concurrency}`,
        ratio(
          find(runs, 'ucd', 0, concurrency)?.eventsPerSec,
          find(runs, 'bare', 0, concurrency)?.eventsPerSec,
        ),
        '>=',
        LIMITS.workerVsBareAtZeroLatency,
        'ratio',
      ),
    )
  }
  const at200 = find(runs, 'ucd', 50, 200)
  checks.push(
    check(
      'worker-vs-ideal-50ms-c200',
      'worker vs latency-bound ideal, 50 ms, concurrency 200',
      ratio(at200?.eventsPerSec, at200?.idealEventsPerSec),
      '>=',
      LIMITS.workerVsIdealAt200,
      'ratio',
    ),
  )
  checks.push(
    check(
      'redis-bytes-per-waiting-event',
      'Redis bytes per waiting 1 KB event',
      results.memory?.waitingEvent.bytesPerItem,
      '<=',
      LIMITS.redisBytesPerWaitingEvent,
      'bytes',
    ),
  )
  checks.push(
    check(
      'redis-bytes-per-dedupe-marker',
      'Redis bytes per dedupe marker',
      results.memory?.dedupeMarker.bytesPerItem,
      '<=',
      LIMITS.redisBytesPerDedupeMarker,
      'bytes',
    ),
  )
  // Every run at concurrency 200, not only the median ones: the largest peak counts.
  const rssAt200 = runs
    .filter(r => r.impl === 'ucd' && r.concurrency === 200 && r.processes === 1)
    .map(r => r.peakRssBytes)
  checks.push(
    check(
      'worker-rss-c200',
      'worker peak RSS at concurrency 200',
      rssAt200.length > 0 ? Math.max(...rssAt200) : undefined,
      '<=',
      LIMITS.workerRssAt200,
      'bytes',
    ),
  )
  checks.push(
    check(
      'fuzz-normalize-ms',
      'normalizeEvent worst ms per hostile event (fuzz, up to 32 KB)',
      results.fuzz?.worstNormalize.normalizeMs,
      '<=',
      LIMITS.fuzzMsPerEvent,
      'ms',
    ),
  )
  checks.push(
    check(
      'fuzz-plan-ms',
      'planEvent worst ms per hostile event (fuzz, up to 32 KB)',
      results.fuzz?.worstPlan.planMs,
      '<=',
      LIMITS.fuzzMsPerEvent,
      'ms',
    ),
  )
  checks.push(...lingerChecks(results.linger))
  checks.push(
    check(
      'isolation-b-vs-alone',
      "tenant B's tracks/s while tenant A is answered 429, vs B alone",
      results.isolation?.ratio429,
      '>=',
      LIMITS.isolationBVsAlone,
      'ratio',
    ),
  )
  // Per-user consistency: every latency measured must hold the ratio (0 ms, CPU-bound, is the hardest).
  const ratios = results.consistency?.ratios ?? [{ latencyMs: 0 }]
  for (const { latencyMs, ratio: measured } of ratios) {
    checks.push(
      check(
        `consistency-on-vs-off-${latencyMs}ms`,
        `identify throughput, consistency on vs off, ${latencyMs} ms`,
        measured,
        '>=',
        LIMITS.consistencyOnVsOff,
        'ratio',
      ),
    )
  }
  return checks
}

/** Issue 20's targets, from the linger section (`--only linger`). */
function lingerChecks(linger: BenchResults['linger']): TargetCheck[] {
  const track = linger?.track
  return [
    check(
      'linger-track-vs-ceiling',
      '/v1/track events/s (linger on, 100 connections) vs addBulk(1) ceiling',
      ratio(track?.lingerOn.eventsPerSec, track?.addBulkCeiling.eventsPerSec),
      '>=',
      LIMITS.trackVsAddBulkCeiling,
      'ratio',
    ),
    check(
      'linger-batch-vs-ceiling',
      '/v1/batch events/s vs addBulk(100) ceiling (linger section)',
      ratio(linger?.batch.ingest.eventsPerSec, linger?.batch.addBulkCeiling.eventsPerSec),
      '>=',
      LIMITS.batchVsAddBulkCeiling,
      'ratio',
    ),
    check(
      'linger-track-open-loop-p99',
      '/v1/track p99, open loop at 60% of the addBulk(1) ceiling (linger on)',
      track?.openLoop?.lingerOn.latencyP99Ms,
      '<=',
      LIMITS.trackP99Ms,
      'ms',
    ),
    check(
      'linger-max-batch-event-loop-delay',
      'ingest event-loop delay, maximal batches (2,500 items, ~500 KB) one after another',
      linger?.eventLoop.maxDelayMs,
      '<=',
      LIMITS.maxBatchEventLoopDelayMs,
      'ms',
    ),
    check(
      'linger-track-saturated-p99',
      "/v1/track p99, closed loop at saturation (Little's law: mean = 100 / throughput)",
      track?.lingerOn.latencyP99Ms,
      '<=',
      LIMITS.trackP99Ms,
      'ms',
    ),
  ]
}
