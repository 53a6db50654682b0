import { describe, expect, it } from '@jest/globals'
import { Coalescer } from '../coalescer'

// The coalescer alone (pure unit test, no Redis): when it flushes and how it answers.

function recorder(gather: boolean, maxItems: number, fail?: (batch: readonly number[]) => boolean) {
  const flushes: number[][] = []
  const coalescer = new Coalescer<number, string>({
    gather,
    maxItems,
    size: n => n,
    flush: async batch => {
      flushes.push([...batch])
      if (fail?.(batch)) throw new Error(`flush of ${batch.join(',')} failed`)
      return batch.map(n => `done ${n}`)
    },
  })
  return { coalescer, flushes }
}

describe('Coalescer', () => {
  it('gathers submissions of one turn of the event loop into one flush and answers each in order', async () => {
    const { coalescer, flushes } = recorder(true, 1000)
    const answers = await Promise.all([1, 2, 3].map(n => coalescer.submit(n)))
    expect(answers).toEqual(['done 1', 'done 2', 'done 3'])
    expect(flushes).toEqual([[1, 2, 3]])
  })

  it('flushes at the end of the turn: a submission of a later turn goes in the next flush', async () => {
    const { coalescer, flushes } = recorder(true, 1000)
    const first = [coalescer.submit(1), coalescer.submit(2)]
    // Submitted from a callback queued after the two (setImmediate runs them in order at the end of the
    // turn): the first two have been flushed by then.
    const later = await new Promise<{ answer: Promise<string> }>(resolve =>
      setImmediate(() => resolve({ answer: coalescer.submit(3) })),
    )
    expect(flushes).toEqual([[1, 2]])
    await Promise.all([...first, later.answer])
    expect(flushes).toEqual([[1, 2], [3]])
  })

  it('flushes every submission alone with gathering off (INGEST_LINGER_MS=0)', async () => {
    const { coalescer, flushes } = recorder(false, 1000)
    await Promise.all([1, 2].map(n => coalescer.submit(n)))
    expect(flushes).toEqual([[1], [2]])
  })

  it('starts a flush when the size bound is reached, never splitting a submission', async () => {
    const { coalescer, flushes } = recorder(true, 10)
    // 4 + 5 wait; 3 would exceed 10: 4 + 5 flush first; 3 + 7 reach 10 and flush; 20 alone.
    const answers = await Promise.all([4, 5, 3, 7, 20].map(n => coalescer.submit(n)))
    expect(answers).toHaveLength(5)
    expect(flushes).toEqual([[4, 5], [3, 7], [20]])
  })

  it('rejects every submission of a failed flush and only those', async () => {
    const { coalescer } = recorder(true, 3, batch => batch.includes(2))
    const settled = await Promise.allSettled([1, 2, 3].map(n => coalescer.submit(n)))
    // [1, 2] flush together (3 would exceed the bound) and fail; [3] flushes alone and succeeds.
    expect(settled.map(s => s.status)).toEqual(['rejected', 'rejected', 'fulfilled'])
  })
})
