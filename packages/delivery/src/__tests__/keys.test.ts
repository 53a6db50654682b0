import { createHash } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { shardOf, shardPrefix } from '@ucd/queue'
import { tenantKey, userKey, userKeyPrefix } from '../keys'

describe('Redis keys', () => {
  it('a per-user key carries a hash of the custom id, never the id itself', () => {
    const key = userKey('ucd', 'acme', 'ada@example.com', 'id')
    const hash = createHash('sha256').update('ada@example.com').digest('hex').slice(0, 40)
    expect(key).toBe(`ucd:acme:id:${hash}`)
    expect(key).not.toContain('ada')
    expect(userKey('ucd', 'acme', 'ada@example.com ', 'id')).not.toBe(key)
  })

  it('with one shard, the keys are today’s names whether the base is a string or a key space', () => {
    const one = { prefix: 'ucd', shards: 1 }
    expect(userKey(one, 'acme', 'ada@example.com', 'id')).toBe(
      userKey('ucd', 'acme', 'ada@example.com', 'id'),
    )
    expect(tenantKey(one, 'acme', 'catalog')).toBe('ucd:acme:catalog')
  })

  it('with several shards, a per-user key sits under the hash tag of the user’s shard', () => {
    const six = { prefix: 'ucd', shards: 6 }
    const hash = createHash('sha256').update('user-1').digest('hex').slice(0, 40)
    // shardOf('acme', 'user-1', 6) is 5 (pinned in @ucd/queue); shard 5 of 6 of `ucd` is {ucd-5-2}.
    expect(userKey(six, 'acme', 'user-1', 'id')).toBe(`{ucd-5-2}:acme:id:${hash}`)
    for (let user = 0; user < 50; user++) {
      const id = `user-${user}`
      expect(userKeyPrefix(six, 'acme', id)).toBe(shardPrefix('ucd', shardOf('acme', id, 6), 6))
      expect(userKey(six, 'acme', id, 'id').startsWith(`${userKeyPrefix(six, 'acme', id)}:acme:id:`)).toBe(
        true,
      )
    }
  })

  it('a per-tenant key is the base, the tenant and the kind, never under a shard tag', () => {
    expect(tenantKey('ucd', 'acme', 'catalog')).toBe('ucd:acme:catalog')
    expect(tenantKey({ prefix: 'ucd', shards: 6 }, 'acme', 'catalog')).toBe('ucd:acme:catalog')
  })
})
