import { planEvent } from '@ucd/mapping'
import { normalizeEvent } from '@ucd/segment'
import { FUZZ_CATALOG, FUZZ_CLASSES, FUZZ_ENDINGS, FUZZ_FIELDS, fuzzCases } from '../fuzz-workload'
import type { FuzzCaseResult, FuzzSection } from '../results'
import { round } from '../stats'

// Section 5 (issue 18): hostile strings. Every fuzz case (a long run of one character class in one
// field, the event as large as the 32 KB limit allows) is normalised (`normalizeEvent`, as the
// ingest does) and planned (`planEvent`, as the worker does, twice per attempt) in this process:
// no Redis, no other process. Each case runs `repetitions` times after WARMUP_CALLS untimed; its figure
// is the median CPU time of those (so one GC pause does not count as the code's cost), and the
// section's figure is the worst case. Linear code stays far below the 5 ms target at 32 KB; a regular
// expression that backtracks quadratically takes hundreds of milliseconds.

const RECEIVED_AT = new Date('2026-01-01T00:00:00.000Z')
/** Untimed calls of each function before a case is timed (the code paths it takes get compiled). */
const WARMUP_CALLS = 2
/** A case slower than this is not repeated (one call already says it all). */
const SLOW_MS = 50
/** Planner options a tenant may set (a page without a URL, screens as events). */
const PLAN_OPTIONS = { pageDomain: 'https://www.example.com', screens: 'event' } as const

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0
}

/**
 * CPU time of one call, in milliseconds (user + system, the whole process): on a shared machine the
 * wall time of a 1 ms call also counts the time the process waited for a core, often 10x more.
 */
function time(call: () => unknown): number {
  const start = process.cpuUsage()
  call()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/**
 * `repetitions` timings of `call` after WARMUP_CALLS untimed ones. The first call of a code path may
 * be slow (regular expressions compiled, functions optimised); when the last warm-up call is still
 * slower than SLOW_MS it is the figure (a quadratic case is not run again and again).
 */
function measure(call: () => unknown, repetitions: number): number[] {
  let last = 0
  for (let i = 0; i < WARMUP_CALLS; i += 1) last = time(call)
  if (last > SLOW_MS) return [last]
  const times: number[] = []
  for (let i = 0; i < repetitions; i += 1) times.push(time(call))
  return times
}

export interface FuzzOptions {
  repetitions: number
  log: (message: string) => void
}

export function runFuzzSection(options: FuzzOptions): FuzzSection {
  const cases = fuzzCases()
  options.log(
    `fuzz: ${cases.length} events (${FUZZ_CLASSES.length} character classes × ${FUZZ_ENDINGS.length} endings × ` +
      `${FUZZ_FIELDS.length} fields), ` +
      `${options.repetitions} repetitions each, in process`,
  )
  const results: FuzzCaseResult[] = []
  for (const fuzzCase of cases) {
    const normalize = () => normalizeEvent(fuzzCase.raw, { receivedAt: RECEIVED_AT })
    const normalized = normalize()
    const event = normalized.ok ? normalized.event : undefined
    const plan = () => (event === undefined ? undefined : planEvent(event, FUZZ_CATALOG, PLAN_OPTIONS))
    const normalizeTimes = measure(normalize, options.repetitions)
    const planTimes = measure(plan, options.repetitions)
    results.push({
      charClass: fuzzCase.charClass,
      field: fuzzCase.field,
      runLength: fuzzCase.runLength,
      eventBytes: fuzzCase.eventBytes,
      valid: event !== undefined,
      normalizeMs: round(median(normalizeTimes), 3),
      planMs: event === undefined ? 0 : round(median(planTimes), 3),
    })
  }
  const worst = (key: 'normalizeMs' | 'planMs'): FuzzCaseResult =>
    results.reduce((a, b) => (b[key] > a[key] ? b : a))
  const slowest = [...results]
    .sort((a, b) => Math.max(b.normalizeMs, b.planMs) - Math.max(a.normalizeMs, a.planMs))
    .slice(0, 10)
  return {
    repetitions: options.repetitions,
    cases: results.length,
    validEvents: results.filter(r => r.valid).length,
    maxEventBytes: Math.max(...results.map(r => r.eventBytes)),
    medianNormalizeMs: round(median(results.map(r => r.normalizeMs)), 3),
    medianPlanMs: round(median(results.filter(r => r.valid).map(r => r.planMs)), 3),
    worstNormalize: worst('normalizeMs'),
    worstPlan: worst('planMs'),
    slowest,
  }
}
