import { UsercomNotFoundError, isInDoubt } from '@ucd/usercom-client'
import { dataDigest, findOccurrence } from '../in-doubt'
import { isBadRequest } from './common'
import type { StepRunner } from './context'

/**
 * track: `POST /events/ { user_id, name, data, timestamp }`; a 404 (user gone) re-resolves once. A 400
 * may name fields of the body (partial acceptance, delivery-run.ts): the delivery decides.
 *
 * Effectively once: before the request goes out the step is marked in doubt (persisted with the
 * checkpoints); an answer that proves it had no effect clears the mark. An attempt that finds a mark
 * left by an earlier one (lost answer, timeout, 5xx, a worker killed mid-send) first looks the
 * occurrence up in the user's events: found → that is the step's result; not found → it is created.
 */
export const createEvent: StepRunner<'create_event'> = async (step, context) => {
  const { client, users, checkpoints, now, onInDoubt, logger } = context
  const earlier = checkpoints.inDoubt(step.key)
  if (earlier !== undefined) {
    const found = await findOccurrence(client, step.customId, earlier, logger)
    onInDoubt?.(found ? 'found' : 'not_found')
    logger?.debug({ step: step.key, found: found !== undefined }, 'in-doubt event occurrence looked up')
    if (found !== undefined) return { succeeded: true, result: { id: found.id } }
  }
  // What identifies the occurrence sent: this body (a partial acceptance has already left out what a
  // 400 refused, so the marker describes what User.com may have stored).
  const marker = {
    name: step.body.name,
    timestamp: step.body.timestamp,
    digest: dataDigest(step.body.data),
  }
  try {
    const created = await users.withUser(
      { stepKey: step.key, customId: step.customId, needUserKey: false, checkpoints },
      async user => {
        await checkpoints.markInDoubt(step.key, { ...marker, sentAt: now() })
        try {
          return await client.createEvent({ user_id: user.id, ...step.body })
        } catch (error) {
          if (!isInDoubt(error)) await checkpoints.clearInDoubt(step.key)
          throw error
        }
      },
      error => error instanceof UsercomNotFoundError,
    )
    return { succeeded: true, result: { id: created.id } }
  } catch (error) {
    if (isBadRequest(error)) return { succeeded: false, replan: { kind: 'body_rejected', error } }
    throw error
  }
}
