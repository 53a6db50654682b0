import type { StepRunner } from './context'

/** track, page, group: the user's id (and user_key when needed), cached or by an upsert that creates it. */
export const resolveUser: StepRunner<'resolve_user'> = async (step, { users }) => ({
  succeeded: true,
  result: await users.resolve(step.customId, step.needUserKey),
})
