import { UsercomNotFoundError } from '@ucd/usercom-client'
import { isBadRequest } from './common'
import type { StepRunner } from './context'

/**
 * track: `POST /events/ { user_id, name, data, timestamp }`; a 404 (user gone) re-resolves once. A 400
 * may name fields of the body (partial acceptance, delivery-run.ts): the delivery decides.
 */
export const createEvent: StepRunner<'create_event'> = async (step, { client, users, checkpoints }) => {
  try {
    const created = await users.withUser(
      { stepKey: step.key, customId: step.customId, needUserKey: false, checkpoints },
      user => client.createEvent({ user_id: user.id, ...step.body }),
      error => error instanceof UsercomNotFoundError,
    )
    return { succeeded: true, result: { id: created.id } }
  } catch (error) {
    if (isBadRequest(error)) return { succeeded: false, replan: { kind: 'body_rejected', error } }
    throw error
  }
}
