import { describe, expect, it } from '@jest/globals'
import {
  CLUSTER_SLOTS,
  crc16,
  dedupeKey,
  routingKeyOf,
  shardOf,
  shardPrefix,
  shardPrefixes,
  shardsOf,
  targetSlots,
} from '../index'

describe('shardOf', () => {
  it('spreads 10,000 users of a tenant evenly over 6 shards (each within 10% of a sixth)', () => {
    const counts = Array.from({ length: 6 }, () => 0)
    for (let user = 0; user < 10_000; user++) counts[shardOf('acme', `user-${user}`, 6)]! += 1
    for (const count of counts) {
      expect(count).toBeGreaterThan((10_000 / 6) * 0.9)
      expect(count).toBeLessThan((10_000 / 6) * 1.1)
    }
  })

  // Pinned values, computed independently (Python: int.from_bytes(sha256(b"acme\0user-1")[:4], "big")).
  // If one changes, every user moves to another shard: that is a migration (drain first), not a refactor.
  it.each([
    ['acme', 'user-1', 0xc2bcdb37],
    ['acme', 'user-2', 0x714857f8],
    ['globex', 'user-1', 0xf8382d7c],
    ['acme', 'anon-7f3a', 0x6b39872f],
  ])('is stable: %s/%s is the first 4 bytes of SHA-256 (%i) mod shards', (tenant, key, hash) => {
    for (const shards of [2, 6, 16, 256]) expect(shardOf(tenant, key, shards)).toBe(hash % shards)
  })

  it('depends on the tenant as well as the user, and the separator keeps them apart', () => {
    expect(shardOf('acme', 'user-1', 6)).toBe(5)
    expect(shardOf('globex', 'user-1', 6)).toBe(2)
    expect(shardOf('ab', 'c', 256)).not.toBe(shardOf('a', 'bc', 256))
  })

  it('is always 0 with one shard', () => {
    expect(shardOf('acme', 'user-1', 1)).toBe(0)
  })

  it('refuses a shard count outside 1..256', () => {
    for (const shards of [0, -1, 1.5, 257, NaN]) {
      expect(() => shardOf('acme', 'u', shards)).toThrow(/shards must be a whole number from 1 to 256/)
    }
  })
})

describe('routingKeyOf', () => {
  it('is the userId, else the anonymousId', () => {
    expect(routingKeyOf({ userId: 'u1', anonymousId: 'a1' })).toBe('u1')
    expect(routingKeyOf({ anonymousId: 'a1' })).toBe('a1')
    expect(routingKeyOf({ userId: undefined, anonymousId: 'a1' })).toBe('a1')
  })
})

describe('shardPrefix', () => {
  it('keeps today’s names with one shard', () => {
    expect(shardPrefix('ucd', 0, 1)).toBe('ucd')
    expect(shardPrefix('{ucd}', 0, 1)).toBe('{ucd}')
    expect(dedupeKey(shardPrefix('ucd', 0, 1), 'acme', 'm-1')).toMatch(/^ucd:dd:acme:[\w-]{22}$/)
    expect(shardPrefixes('ucd', 1)).toEqual(['ucd'])
  })

  it('gives each shard its own hash tag above one shard, pinned (changing one moves a shard: a migration)', () => {
    expect(shardPrefix('ucd', 3, 6)).toBe('{ucd-3-22}')
    expect(dedupeKey(shardPrefix('ucd', 3, 6), 'acme', 'm-1')).toMatch(/^\{ucd-3-22\}:dd:acme:[\w-]{22}$/)
    expect(shardPrefixes('ucd', 6)).toEqual([
      '{ucd-0-43}',
      '{ucd-1-17}',
      '{ucd-2-40}',
      '{ucd-3-22}',
      '{ucd-4-13}',
      '{ucd-5-2}',
    ])
    expect(shardPrefixes('ucd', 2)).toEqual(['{ucd-0-2}', '{ucd-1}'])
  })

  it.each([2, 3, 6, 7, 12, 64, 256])(
    'chooses tags whose slots fall in the middle half of the shard’s 1/%i of the slots',
    shards => {
      const prefixes = shardPrefixes('ucd', shards)
      expect(new Set(prefixes).size).toBe(shards)
      prefixes.forEach((prefix, shard) => {
        const { from, to } = targetSlots(shard, shards)
        const slot = crc16(prefix.slice(1, -1)) % CLUSTER_SLOTS
        expect(slot).toBeGreaterThanOrEqual(from)
        expect(slot).toBeLessThanOrEqual(to)
        expect(prefix).toMatch(new RegExp(`^\\{ucd-${shard}(-\\d+)?\\}$`))
      })
    },
  )

  it('computes the cluster key slot as Redis does (CRC16/XMODEM)', () => {
    expect(crc16('123456789')).toBe(0x31c3)
    // redis-cli CLUSTER KEYSLOT '{ucd-0}' → 15773; '{foo}' → 12182
    expect(crc16('ucd-0') % CLUSTER_SLOTS).toBe(15773)
    expect(crc16('foo') % CLUSTER_SLOTS).toBe(12182)
  })

  it('refuses a shard that does not exist', () => {
    expect(() => shardPrefix('ucd', 6, 6)).toThrow(/shard must be a whole number from 0 to 5, not 6/)
    expect(() => shardPrefix('ucd', -1, 6)).toThrow(RangeError)
    expect(() => shardPrefixes('ucd', 6, [1, 7])).toThrow(/not 7/)
  })
})

describe('shardsOf', () => {
  it('lists the shards `only` names (WORKER_SHARDS), ascending and once, with their prefixes', () => {
    expect(shardsOf('ucd', 6, [4, 1, 4])).toEqual([
      { shard: 1, prefix: '{ucd-1-17}' },
      { shard: 4, prefix: '{ucd-4-13}' },
    ])
    expect(shardPrefixes('ucd', 6, [5, 0])).toEqual(['{ucd-0-43}', '{ucd-5-2}'])
    expect(shardsOf('ucd', 1)).toEqual([{ shard: 0, prefix: 'ucd' }])
  })
})
