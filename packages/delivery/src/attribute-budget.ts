import type { Dropped, Plan } from '@ucd/mapping'
import type { Cluster, Redis } from 'ioredis'

// A tenant's budget of new attributes: at most `perHour` distinct attributes created per hour window,
// counted in Redis (one hash per tenant, shared by every worker process). An attribute already counted
// in the window is admitted again (retries and concurrent deliveries of the same new trait count once).
// Beyond the budget the plan does not create the attribute and its value is left out of the delivery,
// reported with reason `attribute_budget`: one hostile identify cannot add thousands of permanent
// attributes to the customer's app.

/** The reason of a value left out because the tenant's new-attribute budget is spent. */
export const ATTRIBUTE_BUDGET_REASON = 'attribute_budget'

const HOUR_MS = 3_600_000
const WINDOW_FIELD = '~window'

/**
 * KEYS[1]: the budget hash. ARGV[1]: window id. ARGV[2]: limit. ARGV[3]: TTL (ms). ARGV[4..]: step keys.
 * Returns 1 (admitted) or 0 per step key. A hash of another window is emptied first.
 */
const ADMIT_LUA = `
if redis.call('HGET', KEYS[1], '${WINDOW_FIELD}') ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '${WINDOW_FIELD}', ARGV[1])
end
local limit = tonumber(ARGV[2])
local used = redis.call('HLEN', KEYS[1]) - 1
local out = {}
for i = 4, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    out[#out + 1] = 1
  elseif used < limit then
    redis.call('HSET', KEYS[1], ARGV[i], 1)
    used = used + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return out
`

export interface AttributeBudgetOptions {
  redis: Redis | Cluster
  /** `tenantKey(keyPrefix, tenantId, 'attribute-budget')` */
  key: string
  /** New attributes per hour window (the tenant's `newAttributesPerHour`). */
  perHour: number
  now?: () => number
}

export class AttributeBudget {
  private readonly now: () => number

  constructor(private readonly options: AttributeBudgetOptions) {
    this.now = options.now ?? Date.now
  }

  /** The subset of `stepKeys` (`attribute:<type>:<name_std>`) that may be created now. */
  async admit(stepKeys: readonly string[]): Promise<Set<string>> {
    if (stepKeys.length === 0) return new Set()
    const now = this.now()
    const window = Math.floor(now / HOUR_MS)
    const ttlMs = (window + 1) * HOUR_MS - now + 60_000
    const answer = (await this.options.redis.eval(
      ADMIT_LUA,
      1,
      this.options.key,
      String(window),
      this.options.perHour,
      ttlMs,
      ...stepKeys,
    )) as unknown[]
    return new Set(stepKeys.filter((_, i) => Number(answer[i]) === 1))
  }

  /**
   * Applies the budget to `plan` in place: the `ensure_attribute` steps not yet run (`done` says which
   * are checkpointed) that the budget does not admit are removed, with their values in the user or
   * company body, and reported in `plan.dropped`. Returns the names left out.
   */
  async apply(plan: Plan, done: (key: string) => boolean): Promise<string[]> {
    const wanted = plan.steps.flatMap(s => (s.op === 'ensure_attribute' && !done(s.key) ? [s.key] : []))
    if (wanted.length === 0) return []
    const admitted = await this.admit(wanted)
    const refused = plan.steps.flatMap(s =>
      s.op === 'ensure_attribute' && wanted.includes(s.key) && !admitted.has(s.key) ? [s] : [],
    )
    if (refused.length === 0) return []
    const refusedKeys = new Set(refused.map(s => s.key))
    plan.steps = plan.steps.filter(s => !refusedKeys.has(s.key))
    for (const step of refused) {
      const target = step.contentType === 'company' ? 'upsert_company' : 'upsert_user'
      for (const s of plan.steps) if (s.op === target) delete s.body[step.nameStd]
      const dropped: Dropped = {
        field: `${step.contentType === 'company' ? 'company' : 'user'} attribute ${step.nameStd}`,
        reason: ATTRIBUTE_BUDGET_REASON,
      }
      plan.dropped.push(dropped)
    }
    return refused.map(s => s.nameStd)
  }
}
