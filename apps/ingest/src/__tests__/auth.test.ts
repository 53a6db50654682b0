import { describe, expect, it } from '@jest/globals'
import { createTenantRegistry } from '@ucd/config'
import { KnownKeys, MAX_KNOWN_KEYS, tenantForWriteKey, writeKeyFromBody, writeKeyFromHeader } from '../auth'
import { UnauthorizedError } from '../errors'

const b64 = (text: string): string => Buffer.from(text).toString('base64')

describe('writeKeyFromHeader', () => {
  it('takes the Basic username, split on the first colon', () => {
    expect(writeKeyFromHeader(`Basic ${b64('abc123:')}`)).toBe('abc123')
    expect(writeKeyFromHeader(`basic ${b64('abc123:pass:word')}`)).toBe('abc123')
    expect(writeKeyFromHeader(`BASIC   ${b64('abc123')}  `)).toBe('abc123')
    expect(writeKeyFromHeader('Basic YWJjMTIzOg==')).toBe('abc123')
  })

  it('finds no key in other schemes, empty usernames or garbage', () => {
    expect(writeKeyFromHeader(undefined)).toBeUndefined()
    expect(writeKeyFromHeader('Bearer eyJhbGciOi.x.y')).toBeUndefined()
    expect(writeKeyFromHeader(`Basic ${b64(':abc123')}`)).toBeUndefined()
    expect(writeKeyFromHeader('Basic')).toBeUndefined()
    expect(writeKeyFromHeader('Basic !!!')).toBeUndefined()
  })
})

describe('writeKeyFromBody', () => {
  it('reads a top-level string writeKey only', () => {
    expect(writeKeyFromBody({ writeKey: ' abc ' })).toBe('abc')
    expect(writeKeyFromBody({ writeKey: 42 })).toBeUndefined()
    expect(writeKeyFromBody({ writeKey: '' })).toBeUndefined()
    expect(writeKeyFromBody([{ writeKey: 'abc' }])).toBeUndefined()
    expect(writeKeyFromBody(null)).toBeUndefined()
    expect(writeKeyFromBody({ batch: [{ writeKey: 'abc' }] })).toBeUndefined()
  })
})

describe('tenantForWriteKey', () => {
  const tenants = createTenantRegistry([
    { id: 'acme', writeKeys: ['wk_acme'], screens: 'off', mergeAnonymous: true, newAttributesPerHour: 50 },
  ])
  it('resolves known keys and says why others are refused', () => {
    expect(tenantForWriteKey(tenants, 'wk_acme').id).toBe('acme')
    const missing = (() => {
      try {
        tenantForWriteKey(tenants, undefined)
      } catch (error) {
        return error
      }
    })()
    expect(missing).toBeInstanceOf(UnauthorizedError)
    expect((missing as UnauthorizedError).code).toBe('UCD_ERR_MISSING_WRITE_KEY')
    expect(() => tenantForWriteKey(tenants, 'wk_other')).toThrow(/Unknown write key/)
    expect(() => tenantForWriteKey(tenants, 'x'.repeat(5000))).toThrow(UnauthorizedError)
  })
})

describe('KnownKeys', () => {
  const tenants = createTenantRegistry([
    { id: 'acme', writeKeys: ['wk_acme'], screens: 'off', mergeAnonymous: true, newAttributesPerHour: 50 },
  ])

  it('answers the same tenant for a key seen before, and never remembers an unknown key', () => {
    const first = tenantForWriteKey(tenants, 'wk_acme')
    expect(tenantForWriteKey(tenants, 'wk_acme')).toBe(first)
    for (let i = 0; i < 3; i += 1) {
      expect(() => tenantForWriteKey(tenants, 'wk_other')).toThrow(/Unknown write key/)
    }
  })

  it('stays bounded: past MAX_KNOWN_KEYS it starts over', () => {
    const known = new KnownKeys()
    const tenant = tenantForWriteKey(tenants, 'wk_acme')
    for (let i = 0; i < MAX_KNOWN_KEYS; i += 1) known.remember(`k${i}`, tenant)
    expect(known.get('k0')).toBe(tenant)
    known.remember('one more', tenant)
    expect(known.get('k0')).toBeUndefined()
    expect(known.get('one more')).toBe(tenant)
  })
})
