import type { Tenant, TenantRegistry } from '@ucd/config'
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
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined
  const key = (body as Record<string, unknown>).writeKey
  if (typeof key !== 'string') return undefined
  const trimmed = key.trim()
  return trimmed === '' ? undefined : trimmed
}

/** The tenant of a write key; unknown → 401. Comparison is constant-time in the registry. */
export function tenantForWriteKey(tenants: TenantRegistry, writeKey: string | undefined): Tenant {
  if (writeKey === undefined) {
    throw new UnauthorizedError(
      'UCD_ERR_MISSING_WRITE_KEY',
      'No write key: send it as the username of HTTP Basic auth (Authorization: Basic base64("<writeKey>:")) or as "writeKey" in the body',
    )
  }
  const tenant = writeKey.length <= MAX_WRITE_KEY_LENGTH ? tenants.byWriteKey(writeKey) : undefined
  if (!tenant) throw new UnauthorizedError('UCD_ERR_INVALID_WRITE_KEY', 'Unknown write key')
  return tenant
}
