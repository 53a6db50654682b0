import { describe, expect, it } from '@jest/globals'
import { parseCli } from '../cli'

describe('parseCli', () => {
  it('runs everything in full mode by default and writes JSON', () => {
    expect(parseCli([])).toMatchObject({
      quick: false,
      only: ['ingest', 'worker', 'scale', 'memory', 'fuzz', 'consistency', 'linger', 'cluster'],
      write: true,
      profile: [],
    })
  })

  it("takes the quick mode, a subset, profiling and worker settings (also after pnpm's --)", () => {
    expect(
      parseCli([
        '--',
        '--quick',
        '--only',
        'worker,memory',
        '--profile',
        'worker',
        '--concurrencies',
        '10,200',
      ]),
    ).toMatchObject({
      quick: true,
      only: ['worker', 'memory'],
      profile: ['worker'],
      concurrencies: [10, 200],
    })
    expect(parseCli(['--no-write'])).toMatchObject({ write: false })
  })
})
