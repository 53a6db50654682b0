import type { OperationKind } from '@ucd/mapping'
import { addCompanyMember } from './add-company-member'
import type { Step, StepContext, StepOutcome, StepRunner } from './context'
import { createEvent } from './create-event'
import { createPageView } from './create-page-view'
import { ensureAttribute } from './ensure-attribute'
import { mergeUsers } from './merge-users'
import { resolveUser } from './resolve-user'
import { upsertCompany } from './upsert-company'
import { upsertUser } from './upsert-user'

/** One runner per operation (a new operation gets its own file and an entry here; the type demands it). */
const RUNNERS: { [K in OperationKind]: StepRunner<K> } = {
  ensure_attribute: ensureAttribute,
  upsert_user: upsertUser,
  resolve_user: resolveUser,
  create_event: createEvent,
  create_page_view: createPageView,
  upsert_company: upsertCompany,
  add_company_member: addCompanyMember,
  merge_users: mergeUsers,
}

/** Runs one operation of a plan with its runner. */
export function runStep<K extends OperationKind>(
  step: Step<K> & { op: K },
  context: StepContext,
): Promise<StepOutcome> {
  const run: StepRunner<K> = RUNNERS[step.op]
  return run(step, context)
}
