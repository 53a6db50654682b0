import { describe, expect, it } from '@jest/globals'
import { planEvent, PlanSchema } from '@ucd/mapping'
import { MAX_EVENT_BYTES, normalizeEvent } from '@ucd/segment'
import {
  FUZZ_CATALOG,
  FUZZ_CLASSES,
  FUZZ_ENDINGS,
  FUZZ_FIELDS,
  fuzzCases,
  longestRun,
} from '../fuzz-workload'

describe('the fuzz cases (issue 18)', () => {
  const cases = fuzzCases()

  it('are every class × ending × field, each event as large as the 32 KB limit allows', () => {
    expect(cases).toHaveLength(FUZZ_CLASSES.length * FUZZ_ENDINGS.length * FUZZ_FIELDS.length)
    for (const c of cases) {
      expect(c.eventBytes).toBeLessThanOrEqual(MAX_EVENT_BYTES)
      // One more unit would not fit (a unit is at most 4 bytes, and a field may carry the run twice).
      expect(c.eventBytes).toBeGreaterThan(MAX_EVENT_BYTES - 16)
      // 32 KB of 4-byte emoji in two fields: 4,000 units each.
      expect(c.runLength).toBeGreaterThanOrEqual(4000)
    }
  })

  it('are normalised and planned without a throw; nearly all are valid events', () => {
    let valid = 0
    for (const c of cases) {
      const result = normalizeEvent(c.raw, { receivedAt: new Date('2026-01-01T00:00:00.000Z') })
      if (!result.ok) continue
      valid += 1
      const plan = planEvent(result.event, FUZZ_CATALOG, {
        pageDomain: 'https://www.example.com',
        screens: 'event',
      })
      expect(PlanSchema.safeParse(plan).success).toBe(true)
    }
    // Refused: the runs in `type` (not an event type), and a run of spaces as an id or an event name.
    expect(valid).toBeGreaterThan(cases.length * 0.9)
  })

  it('longestRun finds the longest run that fits', () => {
    const build = (run: string) => ({ run })
    const n = longestRun(build, 'é', '', 100)
    expect(Buffer.byteLength(JSON.stringify(build('é'.repeat(n))))).toBeLessThanOrEqual(100)
    expect(Buffer.byteLength(JSON.stringify(build('é'.repeat(n + 1))))).toBeGreaterThan(100)
  })
})
