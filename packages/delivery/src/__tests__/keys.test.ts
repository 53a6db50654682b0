import { createHash } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import { companyKey, tenantKey, userKey } from '../keys'

describe('Redis keys', () => {
  it('a per-user key carries a hash of the custom id, never the id itself', () => {
    const key = userKey('ucd', 'acme', 'ada@example.com', 'id')
    const hash = createHash('sha256').update('ada@example.com').digest('hex').slice(0, 40)
    expect(key).toBe(`ucd:acme:id:${hash}`)
    expect(key).not.toContain('ada')
    expect(userKey('ucd', 'acme', 'ada@example.com ', 'id')).not.toBe(key)
  })

  it('a per-tenant key is the base, the tenant and the kind', () => {
    expect(tenantKey('ucd', 'acme', 'catalog')).toBe('ucd:acme:catalog')
  })

  it("consistency keys: a user's clock and lock, a company's apart from a user of the same custom id", () => {
    const hash = createHash('sha256').update('c-1').digest('hex').slice(0, 40)
    expect(userKey('ucd', 'acme', 'c-1', 'clock')).toBe(`ucd:acme:clock:${hash}`)
    expect(userKey('ucd', 'acme', 'c-1', 'lock')).toBe(`ucd:acme:lock:${hash}`)
    expect(companyKey('ucd', 'acme', 'c-1', 'clock')).toBe(`ucd:acme:company:clock:${hash}`)
    expect(companyKey('ucd', 'acme', 'c-1', 'lock')).not.toBe(userKey('ucd', 'acme', 'c-1', 'lock'))
  })
})
