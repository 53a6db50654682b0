import type { Plan } from '@ucd/mapping'
import { ENDPOINTS, UsercomInvalidPathError, unsafePathReason } from '@ucd/usercom-client'

// Ids that would change a request path (issue 18) are refused by the client before any request; this
// checks a plan's path-addressed ids before its first step, so such an event sends nothing at all
// (not even the user upsert that precedes the company's) and is dead-lettered as `invalid`.

/** Throws UsercomInvalidPathError when a step of `plan` would put an unsafe id into a path. */
export function assertPathSafe(plan: Plan): void {
  for (const step of plan.steps) {
    if (step.op !== 'upsert_company' && step.op !== 'add_company_member') continue
    const reason = unsafePathReason(step.companyCustomId)
    if (reason !== undefined)
      throw new UsercomInvalidPathError(
        { endpoint: ENDPOINTS.updateCompanyByCustomId },
        `group id: ${reason}`,
      )
  }
}
