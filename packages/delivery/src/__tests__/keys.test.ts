import { createHash } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { shardOf, shardPrefix } from '@ucd/queue'
import { companyKey, tenantKey, userKey, userKeyPrefix } from '../keys'

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

  it("consistency keys: a user's clock and lock, a company's apart from a user of the same custom id", () => {
    const hash = createHash('sha256').update('c-1').digest('hex').slice(0, 40)
    expect(userKey('ucd', 'acme', 'c-1', 'clock')).toBe(`ucd:acme:clock:${hash}`)
    expect(userKey('ucd', 'acme', 'c-1', 'lock')).toBe(`ucd:acme:lock:${hash}`)
    expect(companyKey('ucd', 'acme', 'c-1', 'clock')).toBe(`ucd:acme:company:clock:${hash}`)
    expect(companyKey('ucd', 'acme', 'c-1', 'lock')).not.toBe(userKey('ucd', 'acme', 'c-1', 'lock'))
  })

  it('with several shards, a user’s clock, lock and id share its shard; a company has its own', () => {
    const six = { prefix: 'ucd', shards: 6 }
    const tag = userKeyPrefix(six, 'acme', 'user-1')
    for (const kind of ['id', 'clock', 'lock'] as const)
      expect(userKey(six, 'acme', 'user-1', kind).startsWith(`${tag}:acme:${kind}:`)).toBe(true)
    const companyTag = shardPrefix('ucd', shardOf('acme', 'c-1', 6), 6)
    expect(companyKey(six, 'acme', 'c-1', 'clock').startsWith(`${companyTag}:acme:company:clock:`)).toBe(true)
    expect(companyKey(six, 'acme', 'c-1', 'lock').startsWith(`${companyTag}:acme:company:lock:`)).toBe(true)
  })
})
