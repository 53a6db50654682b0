import { createHash, timingSafeEqual } from 'node:crypto'
import type { Tenant } from './schema'

export interface TenantRegistry {
  readonly list: readonly Tenant[]
  /** The tenant for a worker job. */
  byId(id: string): Tenant | undefined
  /**
   * The tenant a write key belongs to. Compares against every known key in constant time (SHA-256
   * digests through timingSafeEqual, no early exit), so response timing does not leak a key prefix.
   */
  byWriteKey(writeKey: string): Tenant | undefined
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

export function createTenantRegistry(tenants: readonly Tenant[]): TenantRegistry {
  const byId = new Map(tenants.map(t => [t.id, t]))
  const keyDigests = tenants.flatMap(tenant => tenant.writeKeys.map(key => ({ tenant, digest: digest(key) })))
  return {
    list: tenants,
    byId: id => byId.get(id),
    byWriteKey: writeKey => {
      const candidate = digest(writeKey)
      let found: Tenant | undefined
      for (const entry of keyDigests) {
        if (timingSafeEqual(candidate, entry.digest) && found === undefined) found = entry.tenant
      }
      return found
    },
  }
}
