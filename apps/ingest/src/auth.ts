import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Tenant, TenantRegistry } from '@ucd/config'
import { isObject } from '@ucd/segment'
import { UnauthorizedError } from './errors'

/** Longest write key looked at; longer ones are unknown anyway and not worth hashing. */
const MAX_WRITE_KEY_LENGTH = 1024

/**
 * The write key of an `Authorization: Basic base64(<writeKey>:)` header: the username, split on the
 * first ':' (no colon: the whole string, as Segment's backward compatibility allows). Other schemes
 * (Bearer, for OAuth clients) carry no write key: those clients also send it in the body.
 */
export function writeKeyFromHeader(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined
  const match = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization)
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const username = (colon === -1 ? decoded : decoded.slice(0, colon)).trim()
  return username === '' ? undefined : username
}

/** `writeKey` at the top level of the body: of the event for single-event calls, of the batch for batches. */
export function writeKeyFromBody(body: unknown): string | undefined {
  if (!isObject(body)) return undefined
  const key = body.writeKey
  if (typeof key !== 'string') return undefined
  const trimmed = key.trim()
  return trimmed === '' ? undefined : trimmed
}

/** Most strings a KnownKeys remembers; past that it starts over (there are few real keys). */
export const MAX_KNOWN_KEYS = 1000

/**
 * Strings (write keys, Authorization headers) already seen to belong to a tenant, so that the same
 * key on every request of a browser costs one Map lookup instead of a SHA-256 per known key (and, for
 * a header, a regex and a base64 decode). Only keys that matched are kept: an unknown one always goes
 * the constant-time way, and a hit tells no more than the 200 that follows it.
 */
export class KnownKeys {
  private readonly tenants = new Map<string, Tenant>()

  get(key: string): Tenant | undefined {
    return this.tenants.get(key)
  }

  remember(key: string, tenant: Tenant): void {
    if (this.tenants.size >= MAX_KNOWN_KEYS) this.tenants.clear()
    this.tenants.set(key, tenant)
  }
}

const knownWriteKeys = new WeakMap<TenantRegistry, KnownKeys>()

/** The tenant of a write key; unknown → 401. Comparison is constant-time in the registry. */
export function tenantForWriteKey(tenants: TenantRegistry, writeKey: string | undefined): Tenant {
  if (writeKey === undefined) {
    throw new UnauthorizedError('UCD_ERR_MISSING_WRITE_KEY')
  }
  let known = knownWriteKeys.get(tenants)
  const hit = known?.get(writeKey)
  if (hit !== undefined) return hit
  const tenant = writeKey.length <= MAX_WRITE_KEY_LENGTH ? tenants.byWriteKey(writeKey) : undefined
  if (!tenant) throw new UnauthorizedError('UCD_ERR_INVALID_WRITE_KEY')
  if (known === undefined) knownWriteKeys.set(tenants, (known = new KnownKeys()))
  known.remember(writeKey, tenant)
  return tenant
}

/**
 * Segment Webhooks' `X-Signature` (segment-spec.md §8.4): hex HMAC-SHA1 of the body with the shared
 * secret; for a batch (a JSON array), of `JSON.stringify` of its first event. Checked only for tenants
 * with a `webhookSecret`; missing or wrong → 401. Constant-time comparison.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | string[] | undefined,
  body: unknown,
  source: Buffer | undefined,
): void {
  const given = (Array.isArray(header) ? header[0] : header)?.trim()
  if (given === undefined || given === '') {
    throw new UnauthorizedError('UCD_ERR_MISSING_SIGNATURE')
  }
  const signed = Array.isArray(body) ? Buffer.from(JSON.stringify(body[0]) ?? '', 'utf8') : (source ?? '')
  const expected = createHmac('sha1', secret).update(signed).digest()
  const actual = Buffer.from(given, 'hex')
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new UnauthorizedError('UCD_ERR_INVALID_SIGNATURE')
  }
}
