import { describe, expect, it } from '@jest/globals'
import { HEAP_GROWING_PERCENT, heapGrowingFlag } from '../heap'

describe('heapGrowingFlag', () => {
  it('asks V8 to let the heap grow to twice its live size when nobody chose otherwise', () => {
    expect(HEAP_GROWING_PERCENT).toBe(100)
    expect(heapGrowingFlag([])).toBe('--heap-growing-percent=100')
    expect(heapGrowingFlag(['--enable-source-maps', '--max-old-space-size=512'])).toBe(
      '--heap-growing-percent=100',
    )
  })

  it("leaves the operator's own choice on the node command line alone", () => {
    expect(heapGrowingFlag(['--heap-growing-percent=20'])).toBeUndefined()
    expect(heapGrowingFlag(['--inspect', '--heap_growing_percent=80'])).toBeUndefined()
  })
})
