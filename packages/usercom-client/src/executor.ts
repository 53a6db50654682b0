import type { Logger } from '@ucd/logger'
import {
  findAttribute,
  planEvent,
  type AttributeDef,
  type Dropped,
  type Operation,
  type Plan,
} from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { CatalogCache, toAttributeDef } from './catalog-cache'
import { ENDPOINTS, type UsercomClient } from './client'
import { UsercomNotFoundError, UsercomRejectedError, isUsercomError } from './errors'
import { IdentityCache, IdentitySchema, type Identity } from './identity-cache'

// Runs a mapping plan against User.com: one event, its steps in order, with the identity cache,
// the attribute catalog and step checkpoints (a retried delivery skips the steps that succeeded).

/** Step key → what the step returned (e.g. `{ user: { id, user_key }, company: { id } }`). JSON only. */
export type Checkpoints = Record<string, unknown>

export interface ExecutorOptions {
  tenantId: string
  client: UsercomClient
  /** Shared by every worker: identity cache and attribute catalog live here (never an API key). */
  redis: Redis
  /** Keys are `<keyPrefix>:<tenantId>:catalog` and `<keyPrefix>:<tenantId>:id:<sha256>`. */
  keyPrefix: string
  identityTtlSeconds: number
  attributeTtlSeconds: number
  logger?: Logger
  /** In-process identity LRU: entries and TTL (defaults 10 000 and 30 s). */
  localIdentityMaxEntries?: number
  localIdentityTtlMs?: number
  /** Time source (epoch ms); tests only. */
  now?: () => number
}

export interface DeliverOptions {
  /** Steps that succeeded in an earlier attempt (from `onStep` or a previous result). */
  checkpoints?: Checkpoints
  /** Called after each step succeeds, before the next starts: persist it (e.g. in the job data). */
  onStep?: (key: string, result: unknown) => void | Promise<void>
}

export interface DeliveryResult {
  /** The plan that was run (after a catalog refresh, the re-made one). */
  plan: Plan
  /** Every step's result, including those carried over from `options.checkpoints`. */
  checkpoints: Checkpoints
  /** Values left out of the delivery, and why. */
  dropped: Dropped[]
  /** Set when the event type is not delivered (screen, alias): nothing was sent. */
  skipped?: string
}

export interface Executor {
  readonly tenantId: string
  deliver(event: SegmentEvent, options?: DeliverOptions): Promise<DeliveryResult>
}

const CompanyCheckpointSchema = z.object({ id: z.number().int().positive() })

type Step<K extends Operation['op']> = Extract<Operation, { op: K }>

/** Whether a 400 from `POST /site-views/` is about `client_user` (a stale user_key): a field, not text. */
function clientUserRejected(error: unknown): boolean {
  if (!(error instanceof UsercomRejectedError) || error.status !== 400 || error.response === undefined)
    return false
  try {
    const body = JSON.parse(error.response) as { errors?: Record<string, unknown> }
    return typeof body.errors === 'object' && body.errors !== null && 'client_user' in body.errors
  } catch {
    return false
  }
}

export function createExecutor(options: ExecutorOptions): Executor {
  const { client, tenantId } = options
  const now = options.now ?? Date.now
  const logger = options.logger?.child({ tenantId })
  const keyBase = `${options.keyPrefix}:${tenantId}`
  const identities = new IdentityCache({
    redis: options.redis,
    keyBase,
    ttlSeconds: options.identityTtlSeconds,
    localTtlMs: options.localIdentityTtlMs ?? 30_000,
    localMaxEntries: options.localIdentityMaxEntries ?? 10_000,
    ...(logger ? { logger } : {}),
    now,
  })
  const catalog = new CatalogCache({
    client,
    redis: options.redis,
    key: `${keyBase}:catalog`,
    ttlSeconds: options.attributeTtlSeconds,
    ...(logger ? { logger } : {}),
    now,
  })
  /** In-flight resolutions by custom id, and attribute creations by step key (single-flight). */
  const resolving = new Map<string, Promise<Identity>>()
  const creating = new Map<string, Promise<AttributeDef>>()

  const singleFlight = <T>(map: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> => {
    let pending = map.get(key)
    if (pending === undefined) {
      pending = run().finally(() => map.delete(key))
      map.set(key, pending)
    }
    return pending
  }

  /** The user's identity: cache, else upsert `{custom_id}` (and `GET /users/:id/` for the key). */
  async function resolveUser(customId: string, needUserKey: boolean, force = false): Promise<Identity> {
    if (!force) {
      const cached = await identities.get(customId)
      if (cached !== undefined && (!needUserKey || cached.user_key !== undefined)) return cached
    }
    const flightKey = `${needUserKey ? 'k' : 'i'}:${force ? 'f' : 'c'}:${customId}`
    return singleFlight(resolving, flightKey, async () => {
      // Redis was asked just above: only a flight that ended meanwhile (it fills the local cache) counts.
      let identity = force ? undefined : identities.getLocal(customId)
      if (identity === undefined) {
        const { id } = await client.upsertUser({ custom_id: customId })
        identity = { id }
      }
      if (needUserKey && identity.user_key === undefined) {
        const user = await client.getUser(identity.id)
        if (user === null) {
          // The cached id is gone: create the user again and read that one.
          const { id } = await client.upsertUser({ custom_id: customId })
          const again = await client.getUser(id)
          if (again === null) throw new UsercomNotFoundError({ endpoint: ENDPOINTS.getUser, status: 404 })
          identity = { id, user_key: again.user_key }
        } else {
          identity = { id: user.id, user_key: user.user_key }
        }
      }
      await identities.set(customId, identity)
      return identity
    })
  }

  /**
   * Creates a missing attribute; "already exists" (a 400 after another worker made it) is success.
   * A 400 for an attribute that a catalog fetched after it still lacks is a real refusal (rejected).
   */
  function ensureAttribute(step: Step<'ensure_attribute'>): Promise<AttributeDef> {
    return singleFlight(creating, step.key, async () => {
      try {
        const created = await client.createAttribute({
          name: step.name,
          content_type: step.contentType,
          value_type: step.valueType,
        })
        const def = toAttributeDef(created) ?? {
          contentType: step.contentType,
          name: step.name,
          nameStd: step.nameStd,
          valueType: step.valueType,
        }
        await catalog.add(def)
        return def
      } catch (error) {
        if (!(error instanceof UsercomRejectedError) || error.status !== 400) throw error
        // Only a fetch that starts after this answer surely lists an attribute created before it.
        const refreshed = await catalog.refresh({ notBefore: now() })
        const existing = findAttribute(refreshed.attributes, step.contentType, step.nameStd)
        // A create by another process answered before this 400 would be in that catalog: not a race.
        if (existing === undefined) throw error
        logger?.debug({ attribute: step.nameStd }, 'attribute already existed')
        return existing
      }
    })
  }

  /** `PUT /companies-by-id/:cid/`, else create; a create that lost a race updates the winner's. */
  async function upsertCompany(step: Step<'upsert_company'>): Promise<{ id: number }> {
    const updated = await client.updateCompanyByCustomId(step.companyCustomId, step.body)
    if (updated !== null) return { id: updated.id }
    try {
      const created = await client.createCompany({ ...step.body, custom_id: step.companyCustomId })
      return { id: created.id }
    } catch (error) {
      if (!(error instanceof UsercomRejectedError) || error.status !== 400) throw error
      const again = await client.updateCompanyByCustomId(step.companyCustomId, step.body)
      if (again === null) throw error
      return { id: again.id }
    }
  }

  async function deliver(event: SegmentEvent, deliverOptions: DeliverOptions = {}): Promise<DeliveryResult> {
    const startedAt = now()
    const checkpoints: Checkpoints = { ...deliverOptions.checkpoints }
    const usesCatalog = event.type === 'identify' || event.type === 'group'
    let snapshot = usesCatalog ? await catalog.get() : undefined
    let plan = planEvent(event, snapshot?.attributes ?? [])
    const result = (): DeliveryResult => ({
      plan,
      checkpoints,
      dropped: plan.dropped,
      ...(plan.skipped === undefined ? {} : { skipped: plan.skipped }),
    })
    if (plan.skipped !== undefined) return result()

    const wantsCreate = (p: Plan): boolean =>
      p.steps.some(s => s.op === 'ensure_attribute' && !(s.key in checkpoints))
    let refreshed = false
    let replanned = false
    if (snapshot !== undefined && wantsCreate(plan) && snapshot.fetchedAt < startedAt) {
      // The catalog predates this delivery: another worker may have made the attribute since.
      refreshed = true
      snapshot = await catalog.refresh()
      plan = planEvent(event, snapshot.attributes)
    }

    const done = async (key: string, value: unknown): Promise<void> => {
      checkpoints[key] = value
      await deliverOptions.onStep?.(key, value)
    }
    const userFrom = (key: string): Identity | undefined => {
      const parsed = IdentitySchema.safeParse(checkpoints[key])
      return parsed.success ? parsed.data : undefined
    }

    /** Runs a step that addresses the user; on a 404 (or a refused user_key) re-resolves once and retries. */
    const withUser = async <T>(
      step: Step<'create_event' | 'create_page_view' | 'add_company_member'>,
      needUserKey: boolean,
      run: (user: Identity) => Promise<T>,
      stale: (error: unknown) => boolean,
    ): Promise<T> => {
      let user = userFrom('user')
      if (user === undefined || (needUserKey && user.user_key === undefined)) {
        user = await resolveUser(step.customId, needUserKey)
        await done('user', user)
      }
      try {
        return await run(user)
      } catch (error) {
        if (!stale(error)) throw error
        logger?.info(
          { step: step.key, code: isUsercomError(error) ? error.code : undefined },
          'user not found; re-resolving once',
        )
        await identities.invalidate(step.customId)
        const fresh = await resolveUser(step.customId, needUserKey, true)
        await done('user', fresh)
        return run(fresh)
      }
    }

    /**
     * A 400 on a body built from a cached catalog may mean the catalog is out of date (an attribute
     * deleted or retyped): refresh it once, and re-plan if that changes the plan.
     */
    const replanAfterRejection = async (error: unknown): Promise<boolean> => {
      if (!(error instanceof UsercomRejectedError) || error.status !== 400 || refreshed || replanned)
        return false
      if (snapshot === undefined) return false
      refreshed = true
      const before = JSON.stringify(plan.steps)
      snapshot = await catalog.refresh()
      plan = planEvent(event, snapshot.attributes)
      const changed = JSON.stringify(plan.steps) !== before
      if (changed) {
        replanned = true
        logger?.info(
          { messageId: event.messageId },
          'rejected with a cached catalog; re-planned with a fresh one',
        )
      }
      return changed
    }

    for (let index = 0; index < plan.steps.length; index += 1) {
      const step = plan.steps[index]
      if (step === undefined || step.key in checkpoints) continue
      switch (step.op) {
        case 'ensure_attribute': {
          const def = await ensureAttribute(step)
          await done(step.key, { nameStd: def.nameStd, valueType: def.valueType })
          if (def.valueType !== step.valueType && !replanned) {
            // It existed with another type: convert the values again with the real catalog.
            replanned = true
            plan = planEvent(event, (await catalog.get()).attributes)
            index = -1
          }
          break
        }
        case 'upsert_user': {
          let id: number
          try {
            ;({ id } = await client.upsertUser({ ...step.body, custom_id: step.customId }))
          } catch (error) {
            if (!(await replanAfterRejection(error))) throw error
            index = -1
            break
          }
          const cached = await identities.get(step.customId)
          await identities.set(step.customId, cached?.id === id ? { ...cached, id } : { id })
          await done(step.key, { id })
          break
        }
        case 'resolve_user':
          await done(step.key, await resolveUser(step.customId, step.needUserKey))
          break
        case 'create_event': {
          const created = await withUser(
            step,
            false,
            user => client.createEvent({ user_id: user.id, ...step.body }),
            error => error instanceof UsercomNotFoundError,
          )
          await done(step.key, { id: created.id })
          break
        }
        case 'create_page_view': {
          const created = await withUser(
            step,
            true,
            user => client.createSiteView({ client_user: user.user_key ?? '', ...step.body }),
            error => error instanceof UsercomNotFoundError || clientUserRejected(error),
          )
          await done(step.key, { id: created.id })
          break
        }
        case 'upsert_company': {
          let company: { id: number }
          try {
            company = await upsertCompany(step)
          } catch (error) {
            if (!(await replanAfterRejection(error))) throw error
            index = -1
            break
          }
          await done(step.key, company)
          break
        }
        case 'add_company_member': {
          const upsert = plan.steps.find((s): s is Step<'upsert_company'> => s.op === 'upsert_company')
          let companyGone = false
          const companyId = async (): Promise<number> => {
            const saved = CompanyCheckpointSchema.safeParse(checkpoints.company)
            if (saved.success && !companyGone) return saved.data.id
            const found = upsert
              ? await upsertCompany(upsert)
              : await client.getCompanyByCustomId(step.companyCustomId)
            if (found === null) {
              throw new UsercomNotFoundError({ endpoint: ENDPOINTS.getCompanyByCustomId, status: 404 })
            }
            await done('company', { id: found.id })
            return found.id
          }
          await withUser(
            step,
            false,
            async user =>
              client.addCompanyMember(await companyId(), { user_id: user.id, user_custom_id: step.customId }),
            error => {
              // Either the user or the company is gone: both are looked up again.
              companyGone = error instanceof UsercomNotFoundError
              return companyGone
            },
          )
          await done(step.key, {})
          break
        }
      }
    }
    return result()
  }

  return { tenantId, deliver }
}
