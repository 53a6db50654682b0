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

// A tenant's attribute catalog: in Redis with a TTL (shared by every worker) and in process.
// Loading and refreshing are single-flight: however many jobs ask at once, one request goes out.

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
  ttlSeconds: number
  logger?: Logger
  now?: () => number
}

export class CatalogCache {
  private local: CatalogSnapshot | undefined
  private loading: Promise<CatalogSnapshot> | undefined
  /** The fetch under way, and when it started (epoch ms, as `fetchedAt`). */
  private refreshing: { startedAt: number; snapshot: Promise<CatalogSnapshot> } | undefined
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
   * Fetches the catalog from User.com now, joining a fetch already under way if it started at or
   * after `notBefore` (epoch ms; default: any). A fetch that started earlier may miss an attribute
   * created since (e.g. the one a `POST /attributes/` 400 just said exists), so a new one starts.
   */
  async refresh(options: { notBefore?: number } = {}): Promise<CatalogSnapshot> {
    const current = this.refreshing
    if (current !== undefined && current.startedAt >= (options.notBefore ?? -Infinity))
      return current.snapshot
    const startedAt = this.now()
    const flight = {
      startedAt,
      snapshot: this.fetch(startedAt).finally(() => {
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
