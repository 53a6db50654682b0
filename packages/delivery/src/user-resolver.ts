import type { Logger } from '@ucd/logger'
import { ENDPOINTS, UsercomNotFoundError, isUsercomError, type UsercomClient } from '@ucd/usercom-client'
import type { CheckpointLog } from './checkpoints'
import type { IdentityCache, Identity } from './identity-cache'
import { SingleFlight } from './single-flight'

// custom_id → the user's internal id (and user_key): from the identity cache, else from User.com, by an
// upsert that creates the user when it does not exist. One resolution per user at a time, per process.

export interface UserResolverOptions {
  client: UsercomClient
  identities: IdentityCache
  logger?: Logger
}

export class UserResolver {
  /** In-flight resolutions by custom id, what they need, and whether they bypass the cache. */
  private readonly flights = new SingleFlight<Identity>()

  constructor(private readonly options: UserResolverOptions) {}

  /** The user's identity: cache, else upsert `{custom_id}` (and `GET /users/:id/` for the key). */
  async resolve(customId: string, needUserKey: boolean, force = false): Promise<Identity> {
    const { client, identities } = this.options
    if (!force) {
      const cached = await identities.get(customId)
      if (cached !== undefined && (!needUserKey || cached.user_key !== undefined)) return cached
    }
    const flightKey = `${needUserKey ? 'k' : 'i'}:${force ? 'f' : 'c'}:${customId}`
    return this.flights.run(flightKey, async () => {
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

  /** After an upsert of the user answered `id`: cache it, keeping a cached user_key of the same id. */
  async remember(customId: string, id: number): Promise<void> {
    const { identities } = this.options
    const cached = await identities.get(customId)
    await identities.set(customId, cached?.id === id ? { ...cached, id } : { id })
  }

  /** Drops a user from the identity cache (it was merged away). */
  async forget(customId: string): Promise<void> {
    await this.options.identities.invalidate(customId)
  }

  /**
   * Runs a call that addresses the user (by id or user_key): the user of the checkpoints, else resolved
   * (and checkpointed as `user`). When the call says that user is gone (`stale`: a 404, a refused
   * user_key), the cache entry is dropped, the user resolved again and the call made once more.
   */
  async withUser<T>(
    call: { stepKey: string; customId: string; needUserKey: boolean; checkpoints: CheckpointLog },
    run: (user: Identity) => Promise<T>,
    stale: (error: unknown) => boolean,
  ): Promise<T> {
    const { stepKey, customId, needUserKey, checkpoints } = call
    let user = checkpoints.user()
    if (user === undefined || (needUserKey && user.user_key === undefined)) {
      user = await this.resolve(customId, needUserKey)
      await checkpoints.save('user', user)
    }
    try {
      return await run(user)
    } catch (error) {
      if (!stale(error)) throw error
      this.options.logger?.info(
        { step: stepKey, code: isUsercomError(error) ? error.code : undefined },
        'user not found; re-resolving once',
      )
      await this.options.identities.invalidate(customId)
      const fresh = await this.resolve(customId, needUserKey, true)
      await checkpoints.save('user', fresh)
      return run(fresh)
    }
  }
}
