import type { Prng } from './prng'
import { FaultsSchema, type FailNextRule, type Faults, type FaultsPatch } from './schema'

/** What the fault layer decided for one request (before it reaches the API). */
export type FaultDecision =
  | { kind: 'pass'; lost?: true }
  | { kind: 'drop' }
  | { kind: 'status'; status: number; retryAfter?: string; detail: string }

interface Bucket {
  tokens: number
  at: number
}

/**
 * The simulator's faults: global ones (latency, error and drop rates, a per-app rate limit) and
 * targeted one-shot rules. All randomness comes from the seeded PRNG.
 */
export class FaultController {
  private faults: Faults
  private buckets = new Map<string, Bucket>()
  private rules: { rule: FailNextRule; remaining: number | null; until?: number }[] = []

  constructor(
    private readonly initial: Faults,
    private readonly prng: Prng,
    private readonly clock: () => number = Date.now,
  ) {
    this.faults = { ...initial }
  }

  current(): Faults {
    return { ...this.faults }
  }

  update(patch: FaultsPatch): Faults {
    this.faults = FaultsSchema.parse({ ...this.faults, ...patch })
    this.buckets.clear()
    return this.current()
  }

  reset(): void {
    this.faults = { ...this.initial }
    this.buckets.clear()
    this.rules = []
  }

  addRule(rule: FailNextRule): void {
    const remaining = rule.count ?? (rule.durationMs === undefined ? 1 : null)
    this.rules.push({
      rule,
      remaining,
      ...(rule.durationMs === undefined ? {} : { until: this.clock() + rule.durationMs }),
    })
  }

  clearRules(): void {
    this.rules = []
  }

  pending(): {
    method: string
    route: string
    remaining: number | null
    app?: string
    customId?: string
    until?: string
  }[] {
    this.expire()
    return this.rules.map(({ rule, remaining, until }) => ({
      method: rule.method,
      route: rule.route,
      remaining,
      ...(rule.app === undefined ? {} : { app: rule.app }),
      ...(rule.customId === undefined ? {} : { customId: rule.customId }),
      ...(until === undefined ? {} : { until: new Date(until).toISOString() }),
    }))
  }

  private expire(): void {
    const now = this.clock()
    this.rules = this.rules.filter(entry => entry.until === undefined || entry.until > now)
  }

  /** Latency to add to the next request: fixed plus seeded jitter. */
  latencyMs(): number {
    const { latencyMs, jitterMs } = this.faults
    return latencyMs + (jitterMs > 0 ? this.prng.int(jitterMs + 1) : 0)
  }

  /** Whether any rule in force targets one custom id (those are matched once the body is read). */
  hasCustomIdRules(): boolean {
    return this.rules.some(({ rule }) => rule.customId !== undefined)
  }

  /**
   * Takes the first matching rule still in force (and uses up one of its count, if it has one).
   * Without `customId`, only rules for any custom id match; with it, only rules for that custom id.
   */
  takeRule(method: string, route: string, app: string, customId?: string): FailNextRule | undefined {
    if (this.rules.length === 0) return undefined
    this.expire()
    const index = this.rules.findIndex(
      ({ rule }) =>
        (rule.method === '*' || rule.method === method) &&
        (rule.route === '*' || rule.route === route) &&
        (rule.app === undefined || rule.app === app) &&
        rule.customId === customId,
    )
    const entry = this.rules[index]
    if (!entry) return undefined
    if (entry.remaining !== null) {
      entry.remaining -= 1
      if (entry.remaining <= 0) this.rules.splice(index, 1)
    }
    return entry.rule
  }

  /**
   * Rate limit, then random drops, then random 5xx, for an authenticated request of `app`; a write
   * (POST, PUT) that passes may be marked `lost` (applied, then answered 504).
   */
  decide(app: string, method: string): FaultDecision {
    const limited = this.rateLimit(app)
    if (limited) return limited
    const { dropRate, errorRate, errorStatus, lostResponseRate } = this.faults
    if (dropRate > 0 && this.prng.next() < dropRate) return { kind: 'drop' }
    if (errorRate > 0 && this.prng.next() < errorRate) {
      return { kind: 'status', status: errorStatus, detail: 'Simulated server error.' }
    }
    const write = method === 'POST' || method === 'PUT'
    if (write && lostResponseRate > 0 && this.prng.next() < lostResponseRate)
      return { kind: 'pass', lost: true }
    return { kind: 'pass' }
  }

  /** The Retry-After header value for `seconds`, in the configured format (undefined: none). */
  retryAfterHeader(seconds: number): string | undefined {
    switch (this.faults.retryAfterFormat) {
      case 'none':
        return undefined
      case 'http-date':
        return new Date(this.clock() + seconds * 1000).toUTCString()
      case 'seconds':
        return String(seconds)
    }
  }

  private rateLimit(app: string): FaultDecision | undefined {
    const rps = this.faults.rateLimitRps
    if (rps === null) return undefined
    const capacity = this.faults.rateLimitBurst ?? Math.max(1, Math.ceil(rps))
    const now = this.clock()
    const bucket = this.buckets.get(app) ?? { tokens: capacity, at: now }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rps)
    bucket.at = now
    this.buckets.set(app, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return undefined
    }
    const seconds = this.faults.retryAfterSeconds ?? Math.max(1, Math.ceil((1 - bucket.tokens) / rps))
    const retryAfter = this.retryAfterHeader(seconds)
    return {
      kind: 'status',
      status: 429,
      detail: 'Request was throttled. You have reached a rate limit.',
      ...(retryAfter === undefined ? {} : { retryAfter }),
    }
  }
}
