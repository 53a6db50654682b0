import { isBadRequest, outgoingBody } from './common'
import type { StepRunner } from './context'

/**
 * identify: `POST /users/update_or_create/` with the planned body; the id it answers refreshes the
 * identity cache. A 400 asks for a re-plan (a fresh catalog, or the body without the fields it names).
 */
export const upsertUser: StepRunner<'upsert_user'> = async (step, { client, users }) => {
  let id: number
  try {
    ;({ id } = await client.upsertUser({ ...outgoingBody(step), custom_id: step.customId }))
  } catch (error) {
    if (isBadRequest(error)) return { succeeded: false, replan: { kind: 'body_rejected', error } }
    throw error
  }
  await users.remember(step.customId, id)
  return { succeeded: true, result: { id } }
}
