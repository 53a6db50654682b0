import { describe, expect, it } from '@jest/globals'
import { medianPair } from '../scenarios/linger'

describe('medianPair', () => {
  it('picks the round whose run / ceiling ratio is the median, run and ceiling of that same round', () => {
    // Ratios by round: 0.71, 0.61, 0.62 (the machine slowed down in round 3: both halves fell).
    const runs = [{ eventsPerSec: 4368 }, { eventsPerSec: 4241 }, { eventsPerSec: 2995 }]
    const ceilings = [{ eventsPerSec: 6116 }, { eventsPerSec: 6933 }, { eventsPerSec: 4834 }]
    const [run, ceiling] = medianPair(runs, ceilings)
    expect(run).toBe(runs[2])
    expect(ceiling).toBe(ceilings[2])
  })

  it('takes the lower middle of an even number of rounds, and the only round of one', () => {
    const runs = [{ eventsPerSec: 50 }, { eventsPerSec: 90 }]
    const ceilings = [{ eventsPerSec: 100 }, { eventsPerSec: 100 }]
    expect(medianPair(runs, ceilings)[0]).toBe(runs[0])
    expect(medianPair([runs[1]!], [ceilings[1]!])).toEqual([runs[1], ceilings[1]])
    expect(() => medianPair([], [])).toThrow('no rounds')
  })
})
