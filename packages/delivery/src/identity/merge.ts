import { UsercomRejectedError } from '@ucd/usercom-client'
import { DeliveryDeferredError } from '../errors'
import type { Step, StepContext } from '../steps/context'
import type { AnonymousVisitors } from './visitors'

// The anonymous → identified merge of one event (`merge_users`): claim the mapping anonymousId → userId
// (first claim wins, never replaced), then merge the anonymous user into the identified one, once per
// visitor, and only when this product made that user from anonymous-only calls.

/** What a `merge_users` step ended with (the label of `ucd_worker_identity_merges_total`). */
export type MergeOutcome =
  /** `POST /users/merge/` took effect: the anonymous user is gone, its history is the identified user's. */
  | 'merged'
  /** Mapped; there was no user this product made from anonymous calls (or it was the same user). */
  | 'nothing_to_merge'
  /** Another delivery of the same pair holds the mapping (it merges); nothing to do here. */
  | 'already_mapped'
  /** The anonymousId maps to another userId (a shared computer): no merge, ever. */
  | 'refused_conflict'

/** How long a merge waits for the anonymous deliveries in flight before it looks again. */
export const IN_FLIGHT_RETRY_MS = 250

export async function mergeAnonymous(step: Step<'merge_users'>, context: StepContext): Promise<MergeOutcome> {
  const { visitors } = context
  if (visitors === undefined) return 'nothing_to_merge'
  const outcome = await claimAndMerge(step, context, visitors)
  if (outcome === 'merged' || outcome === 'nothing_to_merge') visitors.settle(step.anonymousId, step.customId)
  return outcome
}

async function claimAndMerge(
  step: Step<'merge_users'>,
  context: StepContext,
  visitors: AnonymousVisitors,
): Promise<MergeOutcome> {
  const { client, users, checkpoints, plan, logger } = context
  const { anonymousId, customId } = step
  const claim = await visitors.claim(anonymousId, customId, plan.messageId)
  if (claim.status === 'conflict') {
    logger?.warn(
      { messageId: plan.messageId },
      'anonymousId already belongs to another user: not merged (never merge two people)',
    )
    return 'refused_conflict'
  }
  if (claim.status === 'mapped') return 'already_mapped'
  if (claim.merge === 'done') return 'merged'
  if (claim.merge === 'none' || !claim.anonymous) {
    if (claim.merge !== 'none') await visitors.setMerge(anonymousId, 'none')
    return 'nothing_to_merge'
  }
  if (claim.inFlight > 0) {
    // Its anonymous deliveries end on the anonymous user first; the merge then moves them all.
    throw new DeliveryDeferredError(
      'anonymous_in_flight',
      IN_FLIGHT_RETRY_MS,
      `${claim.inFlight} anonymous deliveries in flight`,
    )
  }
  // `calling`: an earlier attempt sent the merge and its answer was lost: the lookup below tells.
  const child = await client.getUserByCustomId(anonymousId)
  let parent = checkpoints.user() ?? (await users.resolve(customId, false))
  if (child === null || child.id === parent.id) {
    await visitors.setMerge(anonymousId, claim.merge === 'calling' ? 'done' : 'none')
    return claim.merge === 'calling' ? 'merged' : 'nothing_to_merge'
  }
  await visitors.setMerge(anonymousId, 'calling')
  try {
    await client.mergeUsers(parent.id, [child.id])
  } catch (error) {
    if (!(error instanceof UsercomRejectedError) || error.status !== 400) throw error
    // The cached parent may be gone: resolve it again, once.
    parent = await users.resolve(customId, false, true)
    await checkpoints.save('user', parent)
    await client.mergeUsers(parent.id, [child.id])
  }
  await visitors.setMerge(anonymousId, 'done')
  await users.forget(anonymousId)
  logger?.info({ messageId: plan.messageId }, 'anonymous user merged into the identified user')
  return 'merged'
}
