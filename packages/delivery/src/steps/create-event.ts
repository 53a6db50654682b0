import { UsercomNotFoundError } from '@ucd/usercom-client'
import type { StepRunner } from './context'

/** track: `POST /events/ { user_id, name, data, timestamp }`; a 404 (user gone) re-resolves once. */
export const createEvent: StepRunner<'create_event'> = async (step, { client, users, checkpoints }) => {
  const created = await users.withUser(
    { stepKey: step.key, customId: step.customId, needUserKey: false, checkpoints },
    user => client.createEvent({ user_id: user.id, ...step.body }),
    error => error instanceof UsercomNotFoundError,
  )
  return { succeeded: true, result: { id: created.id } }
}
