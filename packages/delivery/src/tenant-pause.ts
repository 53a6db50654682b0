import type { Logger } from '@ucd/logger'
import type { Cluster, Redis } from 'ioredis'

// A tenant's 429 pause, shared by every worker process: a Redis key whose TTL is the pause. A 429 sets
// it (Retry-After, default 1 s, capped at 60 s; never shortened by a shorter one); every delivery of
// that tenant that starts while it is set is put back until it ends, without a request. Other
// tenants' deliveries never look at it. Each process reads the key at most every `checkIntervalMs`
// (one read at a time) and remembers a pause it saw or set, so a paused tenant costs no Redis round
// trip per job and an unpaused one a read per interval.

/** A 429 without a usable Retry-After (or `0`, or a past date) pauses this long: no hot loop. */
export const DEFAULT_PAUSE_MS = 1000
/** The longest pause a Retry-After may ask for. */
export const MAX_PAUSE_MS = 60_000

/** Retry-After (ms, or undefined) → the pause: at least the default, at most the cap. */
export function pauseLengthMs(retryAfterMs: number | undefined): number {
  const wanted = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) ? retryAfterMs : 0
  return Math.min(Math.max(Math.ceil(wanted), DEFAULT_PAUSE_MS), MAX_PAUSE_MS)
}

/** KEYS[1]: the pause key. ARGV[1]: pause (ms). Extends the pause to ARGV[1] from now, never shortens it. */
const PAUSE_LUA = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 1
`

export interface TenantPauseOptions {
  redis: Redis | Cluster
  /** `tenantKey(keyPrefix, tenantId, 'pause')` */
  key: string
  /** How stale this process's view of a pause set by another process may be; default 250 ms. */
  checkIntervalMs?: number
  logger?: Logger
  now?: () => number
}

export class TenantPause {
  /** Epoch ms until which this process knows the tenant is paused. */
  private until = 0
  private checkedAt = -Infinity
  private reading: Promise<void> | undefined
  /** 429s without Retry-After in a row (see defaultPauseMs). */
  private streak = 0
  private readonly now: () => number
  private readonly checkIntervalMs: number

  constructor(private readonly options: TenantPauseOptions) {
    this.now = options.now ?? Date.now
    this.checkIntervalMs = options.checkIntervalMs ?? 250
  }

  /** Milliseconds left of a pause this process knows of (no Redis round trip). */
  remainingLocal(): number {
    return Math.max(0, this.until - this.now())
  }

  /** Milliseconds left of the tenant's pause (0: not paused), reading Redis at most once per interval. */
  async remaining(): Promise<number> {
    const local = this.remainingLocal()
    if (local > 0) return local
    if (this.now() - this.checkedAt >= this.checkIntervalMs) {
      this.reading ??= this.read().finally(() => {
        this.reading = undefined
      })
      await this.reading
    }
    return this.remainingLocal()
  }

  /**
   * The pause for a 429 without Retry-After: 1 s, doubled for each 429 that comes within 5 s of the end
   * of the previous pause (a tenant whose limit stays spent), up to the 60 s cap; back to 1 s after a
   * quiet spell. Keeps a long outage from bringing every paused job back each second.
   */
  defaultPauseMs(): number {
    const now = this.now()
    this.streak = now <= this.until + 5000 ? this.streak + 1 : 0
    return Math.min(DEFAULT_PAUSE_MS * 2 ** Math.min(this.streak, 16), MAX_PAUSE_MS)
  }

  /** Pauses the tenant for `ms` from now, for every process (a longer pause already set stays). */
  async pause(ms: number): Promise<void> {
    this.until = Math.max(this.until, this.now() + ms)
    try {
      await this.options.redis.eval(PAUSE_LUA, 1, this.options.key, Math.ceil(ms))
    } catch (error) {
      // This process still holds the pause; the others learn of it from their own 429s.
      this.options.logger?.warn({ err: error }, 'tenant pause write failed')
    }
  }

  private async read(): Promise<void> {
    try {
      const ttl = await this.options.redis.pttl(this.options.key)
      if (ttl > 0) this.until = Math.max(this.until, this.now() + ttl)
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'tenant pause read failed; going on')
    }
    this.checkedAt = this.now()
  }
}
