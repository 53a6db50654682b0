import { UsercomNotFoundError, UsercomRejectedError } from '@ucd/usercom-client'
import type { StepRunner } from './context'

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

/**
 * page: `POST /site-views/ { client_user: <user_key>, ... }`; a 404 or a refused `client_user` (the
 * cached user_key is stale) re-resolves the user once.
 */
export const createPageView: StepRunner<'create_page_view'> = async (
  step,
  { client, users, checkpoints },
) => {
  const created = await users.withUser(
    { stepKey: step.key, customId: step.customId, needUserKey: true, checkpoints },
    user => client.createSiteView({ client_user: user.user_key ?? '', ...step.body }),
    error => error instanceof UsercomNotFoundError || clientUserRejected(error),
  )
  return { succeeded: true, result: { id: created.id } }
}
