import { mergeAnonymous } from '../identity/merge'
import type { StepRunner } from './context'

/** An event with both ids, or alias: the anonymous → identified merge (identity/merge.ts). */
export const mergeUsers: StepRunner<'merge_users'> = async (step, context) => {
  const outcome = await mergeAnonymous(step, context)
  context.onMerge?.(outcome)
  return { succeeded: true, result: { outcome } }
}
