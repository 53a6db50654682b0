import { describe, expect, it } from '@jest/globals'
import { shardConcurrency } from '../index'

describe('shardConcurrency (WORKER_CONCURRENCY is per process, split over the consumed shards)', () => {
  it('gives the whole concurrency to a single shard', () => {
    expect(shardConcurrency(50, 1, 0)).toBe(50)
  })

  it('splits evenly, the remainder to the first shards, and sums to the configured value', () => {
    const split = Array.from({ length: 6 }, (_, i) => shardConcurrency(50, 6, i))
    expect(split).toEqual([9, 9, 8, 8, 8, 8])
    expect(split.reduce((a, b) => a + b, 0)).toBe(50)
  })

  it('gives every shard at least one slot when there are more shards than the concurrency', () => {
    const split = Array.from({ length: 6 }, (_, i) => shardConcurrency(4, 6, i))
    expect(split).toEqual([1, 1, 1, 1, 1, 1])
  })
})
