import type { Logger } from '@ucd/logger'
import type { Cluster, Redis } from 'ioredis'
import { z } from 'zod'
import { userKey, type KeyBase } from './keys'

// custom_id → { id, user_key } for one tenant: in Redis (shared by every worker, with a TTL),
// fronted by a small in-process LRU with a short TTL. Redis keys carry a hash of the custom id,
// never the id itself (it may be an email), and never an API key.

export const IdentitySchema = z.object({
  id: z.number().int().positive(),
  user_key: z.string().min(1).optional(),
})
export type Identity = z.infer<typeof IdentitySchema>

export interface IdentityCacheOptions {
  redis: Redis | Cluster
  /** Entries are `userKey(keyPrefix, tenantId, customId, 'id')`: `<user's shard prefix>:<tenantId>:id:<sha256>`. */
  keyPrefix: KeyBase
  tenantId: string
  ttlSeconds: number
  localTtlMs: number
  localMaxEntries: number
  logger?: Logger
  now?: () => number
}

/** A tiny LRU with a TTL per entry (Map keeps insertion order; a hit moves the entry to the end). */
export class LocalLru<V> {
  private entries = new Map<string, { value: V; expiresAt: number }>()

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    if (entry.expiresAt <= this.now()) return undefined
    this.entries.set(key, entry)
    return entry.value
  }

  set(key: string, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs })
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (oldest.done === true) break
      this.entries.delete(oldest.value)
    }
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  get size(): number {
    return this.entries.size
  }
}

export class IdentityCache {
  private readonly local: LocalLru<Identity>

  constructor(private readonly options: IdentityCacheOptions) {
    this.local = new LocalLru(options.localMaxEntries, options.localTtlMs, options.now)
  }

  /** The Redis key of a custom id. */
  redisKey(customId: string): string {
    return userKey(this.options.keyPrefix, this.options.tenantId, customId, 'id')
  }

  /** The identity in this process's cache only (no Redis round trip), or undefined. */
  getLocal(customId: string): Identity | undefined {
    return this.local.get(customId)
  }

  /** The cached identity (local first, then Redis), or undefined. A Redis failure counts as a miss. */
  async get(customId: string): Promise<Identity | undefined> {
    const local = this.local.get(customId)
    if (local !== undefined) return local
    let raw: string | null
    try {
      raw = await this.options.redis.get(this.redisKey(customId))
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'identity cache read failed; resolving without it')
      return undefined
    }
    if (raw === null) return undefined
    let parsed: ReturnType<typeof IdentitySchema.safeParse>
    try {
      parsed = IdentitySchema.safeParse(JSON.parse(raw))
    } catch {
      return undefined
    }
    if (!parsed.success) return undefined
    this.local.set(customId, parsed.data)
    return parsed.data
  }

  async set(customId: string, identity: Identity): Promise<void> {
    this.local.set(customId, identity)
    try {
      await this.options.redis.set(
        this.redisKey(customId),
        JSON.stringify(identity),
        'EX',
        this.options.ttlSeconds,
      )
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'identity cache write failed')
    }
  }

  async invalidate(customId: string): Promise<void> {
    this.local.delete(customId)
    try {
      await this.options.redis.del(this.redisKey(customId))
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'identity cache invalidation failed')
    }
  }
}
