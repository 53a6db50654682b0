import { DEAD_LETTER_REASONS, type DeadLetterReason, type DeadLetterRecord } from '@ucd/queue'
import { EVENT_TYPES } from '@ucd/segment'
import { UsageError } from './errors'

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/

/** `30s`, `30m`, `2h`, `7d`, `1w`, `1h30m` in milliseconds, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim()
  if (!DURATION.test(value)) return undefined
  let total = 0
  for (const match of value.matchAll(DURATION_PART)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  }
  return total
}

/** A point in time: an ISO date (`2024-05-01`, `2024-05-01T12:00:00Z`) or a duration ago (`2h`). */
export function parseTimeBound(option: string, text: string, now: Date): number {
  const duration = parseDuration(text)
  if (duration !== undefined) {
    const at = now.getTime() - duration
    if (!Number.isFinite(at) || Number.isNaN(new Date(at).getTime())) {
      throw new UsageError(`${option}: "${text}" reaches before any date there is`)
    }
    return at
  }
  const value = text.trim()
  const ms = ISO_DATE.test(value) ? parseIsoUtc(value) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${option}: "${text}" is neither an ISO date (2024-05-01, 2024-05-01T12:00:00Z) nor a time ago (30m, 2h, 7d)`,
    )
  }
  return ms
}

/**
 * An ISO date or date-time; without a zone it is UTC (as a date-only value already is in JavaScript,
 * so `2024-05-01` and `2024-05-01T00:00` are the same instant on every machine). A day or time that
 * does not exist (`2024-02-30`, `25:00`) is NaN rather than rolled over.
 */
function parseIsoUtc(value: string): number {
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value) || !/[T ]/.test(value) ? value : `${value}Z`
  const ms = Date.parse(withZone.replace(' ', 'T'))
  if (Number.isNaN(ms)) return ms
  const [year, month, day] = value.slice(0, 10).split('-').map(Number)
  const probe = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1))
  const exists =
    probe.getUTCFullYear() === year && probe.getUTCMonth() + 1 === month && probe.getUTCDate() === day
  return exists ? ms : Number.NaN
}

export function parseDurationOption(option: string, text: string): number {
  const duration = parseDuration(text)
  if (duration === undefined || duration <= 0) {
    throw new UsageError(`${option}: "${text}" is not a duration (like 90s, 30m, 2h, 7d, 1w)`)
  }
  return duration
}

export function parsePositiveInt(option: string, text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`${option}: "${text}" is not a positive whole number`)
  }
  return value
}

export function parsePositiveNumber(option: string, text: string): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${option}: "${text}" is not a positive number`)
  }
  return value
}

/** Which dead-letter records a command applies to. Every set field must match (AND); values within one OR. */
export interface DlqFilter {
  reasons?: ReadonlySet<DeadLetterReason>
  types?: ReadonlySet<string>
  tenants?: ReadonlySet<string>
  /** userId or anonymousId. */
  users?: ReadonlySet<string>
  /** deadAt at or after (epoch ms). */
  since?: number
  /** deadAt before (epoch ms). */
  until?: number
}

/** Raw filter flags as commander collects them (repeatable, comma-separated values). */
export interface FilterFlags {
  reason?: string[]
  type?: string[]
  tenant?: string[]
  user?: string[]
  since?: string
  until?: string
  olderThan?: string
}

/** Commander collector: `--reason a,b --reason c` gives `['a', 'b', 'c']`. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const parts = value
    .split(',')
    .map(part => part.trim())
    .filter(part => part !== '')
  return [...(previous ?? []), ...parts]
}

function nonEmpty(option: string, values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  if (values.length === 0) throw new UsageError(`${option}: give at least one value`)
  return values
}

export function buildFilter(flags: FilterFlags, now: Date): DlqFilter {
  const filter: DlqFilter = {}
  const reasons = nonEmpty('--reason', flags.reason)
  if (reasons) {
    const bad = reasons.filter(r => !(DEAD_LETTER_REASONS as readonly string[]).includes(r))
    if (bad.length > 0) {
      throw new UsageError(
        `--reason: unknown ${bad.map(b => `"${b}"`).join(', ')} (one of ${DEAD_LETTER_REASONS.join(', ')})`,
      )
    }
    filter.reasons = new Set(reasons as DeadLetterReason[])
  }
  const types = nonEmpty('--type', flags.type)
  if (types) {
    const bad = types.filter(t => !(EVENT_TYPES as readonly string[]).includes(t))
    if (bad.length > 0) {
      throw new UsageError(
        `--type: unknown event type ${bad.map(b => `"${b}"`).join(', ')} (one of ${EVENT_TYPES.join(', ')})`,
      )
    }
    filter.types = new Set(types)
  }
  const tenants = nonEmpty('--tenant', flags.tenant)
  if (tenants) filter.tenants = new Set(tenants)
  const users = nonEmpty('--user', flags.user)
  if (users) filter.users = new Set(users)
  if (flags.since !== undefined) filter.since = parseTimeBound('--since', flags.since, now)
  if (flags.until !== undefined) filter.until = parseTimeBound('--until', flags.until, now)
  if (flags.olderThan !== undefined) {
    const before = now.getTime() - parseDurationOption('--older-than', flags.olderThan)
    filter.until = filter.until === undefined ? before : Math.min(filter.until, before)
  }
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new UsageError(
      `the time window is empty: --since ${new Date(filter.since).toISOString()} is not before ` +
        `${new Date(filter.until).toISOString()} (--until/--older-than)`,
    )
  }
  return filter
}

export function isEmptyFilter(filter: DlqFilter): boolean {
  return Object.values(filter).every(value => value === undefined)
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

export function matchesFilter(record: DeadLetterRecord, filter: DlqFilter): boolean {
  if (filter.reasons && !filter.reasons.has(record.reason)) return false
  if (filter.tenants && !filter.tenants.has(record.tenantId)) return false
  if (filter.types) {
    const type = str(record.event.type)
    if (type === undefined || !filter.types.has(type)) return false
  }
  if (filter.users) {
    const userId = str(record.event.userId)
    const anonymousId = str(record.event.anonymousId)
    const hit =
      (userId !== undefined && filter.users.has(userId)) ||
      (anonymousId !== undefined && filter.users.has(anonymousId))
    if (!hit) return false
  }
  if (filter.since !== undefined || filter.until !== undefined) {
    const deadAt = Date.parse(record.deadAt)
    if (filter.since !== undefined && !(deadAt >= filter.since)) return false
    if (filter.until !== undefined && !(deadAt < filter.until)) return false
  }
  return true
}

/** The user an event is about: userId, else anonymousId. */
export function eventUser(record: DeadLetterRecord): string | undefined {
  return str(record.event.userId) ?? str(record.event.anonymousId)
}
