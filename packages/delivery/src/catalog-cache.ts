import { performance } from 'node:perf_hooks'
import type { Logger } from '@ucd/logger'
import {
  AttributeCatalogSchema,
  AttributeContentTypeSchema,
  AttributeValueTypeSchema,
  findAttribute,
  type AttributeCatalog,
  type AttributeDef,
} from '@ucd/mapping'
import type { UsercomAttribute, UsercomClient } from '@ucd/usercom-client'
import type { Cluster, Redis } from 'ioredis'
import { z } from 'zod'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

// A tenant's attribute catalog: in Redis with a TTL (shared by every worker) and in process.
// Loading and refreshing are single-flight: however many jobs ask at once, one request goes out.
// Across processes, fetches are rate-bounded: a fetch first takes the tenant's fetch stamp (SET NX
// with a TTL of `minFetchIntervalMs`); a process that finds it taken waits for the catalog the other
// one stores (or for the stamp to end), so a tenant's catalog is fetched at most once per interval.

/** The catalog and when the fetch that produced it started (epoch ms). */
export const CatalogSnapshotSchema = z.object({ fetchedAt: z.number(), attributes: AttributeCatalogSchema })
export type CatalogSnapshot = z.infer<typeof CatalogSnapshotSchema>

/** User.com's attribute list → the planner's catalog (only user and company attributes of known types). */
export function toCatalog(attributes: readonly UsercomAttribute[]): AttributeCatalog {
  const catalog: AttributeCatalog = []
  for (const attribute of attributes) {
    const def = toAttributeDef(attribute)
    if (def !== undefined) catalog.push(def)
  }
  return catalog
}

export function toAttributeDef(attribute: UsercomAttribute): AttributeDef | undefined {
  const contentType = AttributeContentTypeSchema.safeParse(attribute.content_type)
  const valueType = AttributeValueTypeSchema.safeParse(attribute.value_type)
  if (!contentType.success || !valueType.success) return undefined
  return {
    contentType: contentType.data,
    name: attribute.name,
    nameStd: attribute.name_std,
    valueType: valueType.data,
    ...(attribute.choices ? { choices: attribute.choices } : {}),
  }
}

export interface CatalogCacheOptions {
  client: UsercomClient
  redis: Redis | Cluster
  /** Redis key of the catalog (`tenantKey(keyPrefix, tenantId, 'catalog')`). */
  key: string
  /** Redis key of the fetch stamp (`tenantKey(keyPrefix, tenantId, 'catalog-fetch')`); none: unbounded. */
  fetchStampKey?: string
  /** Least time between two fetches of the catalog across processes; default 2000 ms. */
  minFetchIntervalMs?: number
  ttlSeconds: number
  logger?: Logger
  now?: () => number
}

export class CatalogCache {
  private local: CatalogSnapshot | undefined
  private loading: Promise<CatalogSnapshot> | undefined
  /** The refresh under way, and the least `fetchedAt` its catalog will have (epoch ms). */
  private refreshing: { notBefore: number; snapshot: Promise<CatalogSnapshot> } | undefined
  private readonly now: () => number

  constructor(private readonly options: CatalogCacheOptions) {
    this.now = options.now ?? Date.now
  }

  private fresh(snapshot: CatalogSnapshot | undefined): snapshot is CatalogSnapshot {
    return snapshot !== undefined && snapshot.fetchedAt + this.options.ttlSeconds * 1000 > this.now()
  }

  /** The cached catalog: in process, else from Redis, else fetched from User.com. */
  async get(): Promise<CatalogSnapshot> {
    if (this.fresh(this.local)) return this.local
    this.loading ??= this.load().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  /**
   * A catalog fetched at or after `notBefore` (epoch ms; default: newer than this process's), joining
   * a refresh under way that promises as much. A fetch that started earlier may miss an attribute created since (e.g. the one a
   * `POST /attributes/` 400 just said exists), so a new one starts (after the stamp, if another
   * process holds it).
   */
  async refresh(options: { notBefore?: number } = {}): Promise<CatalogSnapshot> {
    // Without a bound, any catalog newer than the one this process has will do.
    const notBefore = options.notBefore ?? (this.local === undefined ? -Infinity : this.local.fetchedAt + 1)
    const current = this.refreshing
    if (current !== undefined && current.notBefore >= notBefore) return current.snapshot
    const flight = {
      notBefore,
      snapshot: this.fetchBounded(notBefore).finally(() => {
        if (this.refreshing === flight) this.refreshing = undefined
      }),
    }
    this.refreshing = flight
    return flight.snapshot
  }

  /** Adds a just-created attribute to the cached catalog (keeping its age). */
  async add(def: AttributeDef): Promise<void> {
    const current = this.local
    if (current === undefined) return
    if (findAttribute(current.attributes, def.contentType, def.nameStd) !== undefined) return
    const next: CatalogSnapshot = { fetchedAt: current.fetchedAt, attributes: [...current.attributes, def] }
    this.local = next
    await this.store(next)
  }

  private async load(): Promise<CatalogSnapshot> {
    let raw: string | null = null
    try {
      raw = await this.options.redis.get(this.options.key)
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'attribute catalog cache read failed; fetching it')
    }
    if (raw !== null) {
      try {
        const parsed = CatalogSnapshotSchema.safeParse(JSON.parse(raw))
        if (parsed.success && this.fresh(parsed.data)) {
          this.local = parsed.data
          return parsed.data
        }
      } catch {
        // unreadable: fetch it again
      }
    }
    return this.refresh()
  }

  /**
   * A catalog fetched at or after `notBefore`: one another process stored meanwhile, or fetched here
   * once this process holds the tenant's fetch stamp. Waits at most a few intervals; then fetches.
   */
  private async fetchBounded(notBefore: number): Promise<CatalogSnapshot> {
    const { fetchStampKey, redis } = this.options
    if (fetchStampKey === undefined) return this.fetch(this.now())
    const intervalMs = this.options.minFetchIntervalMs ?? 2000
    // On the process clock: a test's frozen `now` must not make the wait endless.
    const deadline = performance.now() + 3 * intervalMs
    for (;;) {
      let stored: CatalogSnapshot | undefined
      try {
        const taken = await redis.set(fetchStampKey, String(this.now()), 'PX', intervalMs, 'NX')
        if (taken === 'OK') break
        stored = await this.readStored()
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'catalog fetch stamp unavailable; fetching')
        break
      }
      const newer =
        stored !== undefined && (this.local === undefined || stored.fetchedAt > this.local.fetchedAt)
      if (stored !== undefined && newer && stored.fetchedAt >= notBefore) {
        // Another process fetched it since this process's: reuse it.
        this.local = stored
        return stored
      }
      if (performance.now() >= deadline) break
      await sleep(Math.min(100, intervalMs))
    }
    return this.fetch(this.now())
  }

  /** The catalog stored in Redis, whatever its age (undefined: none or unreadable). */
  private async readStored(): Promise<CatalogSnapshot | undefined> {
    const raw = await this.options.redis.get(this.options.key)
    if (raw === null) return undefined
    try {
      const parsed = CatalogSnapshotSchema.safeParse(JSON.parse(raw))
      return parsed.success ? parsed.data : undefined
    } catch {
      return undefined
    }
  }

  private async fetch(fetchedAt: number): Promise<CatalogSnapshot> {
    const attributes = toCatalog(await this.options.client.listAttributes())
    const snapshot: CatalogSnapshot = { fetchedAt, attributes }
    // An older fetch that ends after a newer one does not replace the newer catalog.
    if (this.local !== undefined && this.local.fetchedAt > fetchedAt) return snapshot
    this.local = snapshot
    await this.store(snapshot)
    this.options.logger?.debug({ attributes: attributes.length }, 'attribute catalog fetched')
    return snapshot
  }

  private async store(snapshot: CatalogSnapshot): Promise<void> {
    const remainingMs = Math.ceil(snapshot.fetchedAt + this.options.ttlSeconds * 1000 - this.now())
    if (remainingMs <= 0) return
    try {
      await this.options.redis.set(this.options.key, JSON.stringify(snapshot), 'PX', remainingMs)
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'attribute catalog cache write failed')
    }
  }
}
