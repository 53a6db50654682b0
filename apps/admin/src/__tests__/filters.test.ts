import { describe, expect, it } from '@jest/globals'
import { eventJobId } from '@ucd/queue'
import { UsageError } from '../errors'
import {
  buildFilter,
  collectList,
  isEmptyFilter,
  matchesFilter,
  parseDuration,
  parseTimeBound,
} from '../filters'
import { formatAge, formatTable } from '../output'
import { planReplay, progressLine } from '../replay'
import { redactUrl } from '../store'
import { DlqJobIdSchema } from '../transfer'
import { makeRecord, NOW } from './helpers'

describe('durations and time bounds', () => {
  it('parses relative durations, including compound ones', () => {
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('30m')).toBe(1_800_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration('7d')).toBe(604_800_000)
    expect(parseDuration('1w')).toBe(604_800_000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('2')).toBeUndefined()
    expect(parseDuration('two hours')).toBeUndefined()
    expect(parseDuration('-2h')).toBeUndefined()
  })

  it('turns ISO dates and times ago into epoch ms', () => {
    expect(parseTimeBound('--since', '2h', NOW)).toBe(NOW.getTime() - 7_200_000)
    expect(parseTimeBound('--since', '2025-05-01T10:00:00Z', NOW)).toBe(Date.parse('2025-05-01T10:00:00Z'))
    expect(parseTimeBound('--since', '2025-05-01', NOW)).toBe(Date.parse('2025-05-01'))
    expect(parseTimeBound('--since', '2025-05-01T10:00:00+02:00', NOW)).toBe(
      Date.parse('2025-05-01T08:00:00Z'),
    )
  })

  it('rejects anything else with a usage error that names the flag', () => {
    for (const bad of ['yesterday', '2025-13-45', '12345', '']) {
      expect(() => parseTimeBound('--until', bad, NOW)).toThrow(UsageError)
    }
    expect(() => parseTimeBound('--until', 'soon', NOW)).toThrow(/--until: "soon"/)
  })

  it('reads a date-time without a zone as UTC, like a date alone, on every machine', () => {
    expect(parseTimeBound('--since', '2025-05-01T00:00', NOW)).toBe(Date.parse('2025-05-01T00:00:00Z'))
    expect(parseTimeBound('--since', '2025-05-01 10:30:00', NOW)).toBe(Date.parse('2025-05-01T10:30:00Z'))
    expect(parseTimeBound('--since', '2025-05-01T00:00', NOW)).toBe(
      parseTimeBound('--since', '2025-05-01', NOW),
    )
  })

  it('refuses days that do not exist and durations beyond any date, as usage errors', () => {
    for (const bad of ['2024-02-30', '2025-04-31T10:00:00Z', '2025-02-29']) {
      expect(() => parseTimeBound('--since', bad, NOW)).toThrow(UsageError)
    }
    expect(parseTimeBound('--since', '2024-02-29', NOW)).toBe(Date.parse('2024-02-29T00:00:00Z'))
    expect(() => parseTimeBound('--until', '99999999999w', NOW)).toThrow(UsageError)
  })
})

describe('buildFilter', () => {
  it('collects repeated and comma-separated values', () => {
    expect(collectList('a, b', undefined)).toEqual(['a', 'b'])
    expect(collectList('c', ['a', 'b'])).toEqual(['a', 'b', 'c'])
    const filter = buildFilter({ reason: ['forbidden', 'rejected'], type: ['track'], tenant: ['acme'] }, NOW)
    expect([...(filter.reasons ?? [])]).toEqual(['forbidden', 'rejected'])
    expect([...(filter.types ?? [])]).toEqual(['track'])
    expect(isEmptyFilter(filter)).toBe(false)
    expect(isEmptyFilter(buildFilter({}, NOW))).toBe(true)
  })

  it('rejects unknown reasons and types, listing the valid ones', () => {
    expect(() => buildFilter({ reason: ['forbiden'] }, NOW)).toThrow(
      /--reason: unknown "forbiden" \(one of forbidden, unauthorized, rejected, invalid, exhausted\)/,
    )
    expect(() => buildFilter({ type: ['click'] }, NOW)).toThrow(/--type: unknown event type "click"/)
    expect(() => buildFilter({ tenant: [] }, NOW)).toThrow(/--tenant: give at least one value/)
  })

  it('combines --until and --older-than (the earlier wins) and refuses an empty window', () => {
    const filter = buildFilter({ until: '1h', olderThan: '1d' }, NOW)
    expect(filter.until).toBe(NOW.getTime() - 86_400_000)
    expect(() => buildFilter({ since: '1h', until: '2h' }, NOW)).toThrow(/time window is empty/)
    expect(() => buildFilter({ olderThan: 'old' }, NOW)).toThrow(/--older-than: "old" is not a duration/)
  })
})

describe('matchesFilter', () => {
  const record = makeRecord({
    n: 1,
    tenantId: 'acme',
    reason: 'forbidden',
    type: 'identify',
    deadMinutesAgo: 30,
  })
  const anon = makeRecord({ n: 2, anonymousId: 'anon-2', type: 'page' })

  it('matches on every field given (AND), any value within a field (OR)', () => {
    expect(matchesFilter(record, buildFilter({ reason: ['forbidden', 'invalid'] }, NOW))).toBe(true)
    expect(matchesFilter(record, buildFilter({ reason: ['rejected'] }, NOW))).toBe(false)
    expect(matchesFilter(record, buildFilter({ reason: ['forbidden'], tenant: ['globex'] }, NOW))).toBe(false)
    expect(matchesFilter(record, buildFilter({ type: ['identify'] }, NOW))).toBe(true)
    expect(matchesFilter(record, buildFilter({ type: ['track'] }, NOW))).toBe(false)
  })

  it('matches --user against userId or anonymousId', () => {
    expect(matchesFilter(record, buildFilter({ user: ['user-1'] }, NOW))).toBe(true)
    expect(matchesFilter(anon, buildFilter({ user: ['anon-2'] }, NOW))).toBe(true)
    expect(matchesFilter(anon, buildFilter({ user: ['user-2'] }, NOW))).toBe(false)
  })

  it('bounds deadAt: --since inclusive, --until exclusive', () => {
    expect(matchesFilter(record, buildFilter({ since: '31m' }, NOW))).toBe(true)
    expect(matchesFilter(record, buildFilter({ since: '29m' }, NOW))).toBe(false)
    expect(matchesFilter(record, buildFilter({ since: '30m' }, NOW))).toBe(true)
    expect(matchesFilter(record, buildFilter({ until: '30m' }, NOW))).toBe(false)
    expect(matchesFilter(record, buildFilter({ until: '29m' }, NOW))).toBe(true)
    expect(matchesFilter(record, buildFilter({ olderThan: '20m' }, NOW))).toBe(true)
    expect(matchesFilter(record, buildFilter({ olderThan: '1h' }, NOW))).toBe(false)
  })
})

describe('planReplay', () => {
  it('re-enqueues under the ingest job id with the original event, fresh, replay count raised', () => {
    const record = makeRecord({ n: 7, tenantId: 'acme', replays: 2 })
    const plan = planReplay(record, NOW)
    expect(plan.action).toBe('enqueue')
    if (plan.action !== 'enqueue') return
    expect(plan.jobId).toBe(eventJobId('acme', 'msg-7'))
    expect(plan.name).toBe('track')
    expect(plan.data).toEqual({
      tenantId: 'acme',
      event: record.event,
      receivedAt: record.receivedAt,
      replay: { count: 3, at: NOW.toISOString() },
    })
    expect(plan.data.event).toBe(record.event)
    expect(plan.data).not.toHaveProperty('delivery')
  })

  it('skips records whose event could not be delivered anyway', () => {
    const record = { ...makeRecord({ n: 8, reason: 'invalid' }), event: { type: 'track', userId: 'u' } }
    const plan = planReplay(record, NOW)
    expect(plan.action).toBe('skip')
    if (plan.action === 'skip') expect(plan.why).toMatch(/not a valid Segment event.*messageId/)
  })
})

describe('small formatters', () => {
  it('pads table columns to the widest cell', () => {
    expect(formatTable(['A', 'BB'], [['long', 'x']])).toBe('A     BB\nlong  x\n')
  })

  it('formats a table of 200,000 rows (no spread of every cell into one call)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [`id-${i}`, 'x'])
    const text = formatTable(['ID', 'R'], rows)
    expect(text.split('\n')).toHaveLength(200_002)
    expect(text.startsWith('ID         R\n')).toBe(true)
  })

  it('formats ages, progress lines, ids and URLs', () => {
    expect(formatAge(500)).toBe('500ms')
    expect(formatAge(65_000)).toBe('1m 5s')
    expect(formatAge(3 * 3_600_000 + 120_000)).toBe('3h 2m')
    expect(formatAge(2 * 86_400_000)).toBe('2d')
    const line = progressLine(
      {
        dryRun: false,
        selected: 100,
        replayed: 40,
        alreadyQueued: 2,
        failed: 1,
        skipped: 7,
        interrupted: false,
        skips: [],
        failures: [],
      },
      50,
      5000,
    )
    expect(line).toBe('replay: 50/100 (replayed 40, already queued 2, failed 1, skipped 7), 10.0/s, ~5s left')
    expect(DlqJobIdSchema.safeParse('acme-abc-r0').success).toBe(true)
    expect(DlqJobIdSchema.safeParse('42').success).toBe(false)
    expect(DlqJobIdSchema.safeParse('a:b').success).toBe(false)
    // BullMQ's own key names under the queue prefix are never dead-letter ids.
    for (const reserved of ['wait', 'events', 'meta', 'completed', 'acme-abc']) {
      expect(DlqJobIdSchema.safeParse(reserved).success).toBe(false)
    }
    expect(redactUrl('redis://user:hunter2@redis.internal:6380/0')).toBe(
      'redis://user:***@redis.internal:6380/0',
    )
    expect(redactUrl('redis://redis.internal:6380/?password=hunter2&db=1')).not.toContain('hunter2')
  })
})
