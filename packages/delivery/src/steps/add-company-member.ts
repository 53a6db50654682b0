import { ENDPOINTS, UsercomNotFoundError } from '@ucd/usercom-client'
import type { Step, StepRunner } from './context'
import { upsertCompanyById } from './upsert-company'

/**
 * group: `POST /companies/:id/add_member/` (idempotent). The company is the one checkpointed as
 * `company`, else upserted again (or looked up when the plan has no upsert). A 404 means the user or
 * the company is gone: both are looked up again, once.
 */
export const addCompanyMember: StepRunner<'add_company_member'> = async (step, context) => {
  const { client, users, checkpoints, plan } = context
  const upsert = plan.steps.find((s): s is Step<'upsert_company'> => s.op === 'upsert_company')
  let companyGone = false
  const companyId = async (): Promise<number> => {
    const saved = checkpoints.company()
    if (saved !== undefined && !companyGone) return saved.id
    const found = upsert
      ? await upsertCompanyById(client, upsert)
      : await client.getCompanyByCustomId(step.companyCustomId)
    if (found === null) {
      throw new UsercomNotFoundError({ endpoint: ENDPOINTS.getCompanyByCustomId, status: 404 })
    }
    await checkpoints.save('company', { id: found.id })
    return found.id
  }
  await users.withUser(
    { stepKey: step.key, customId: step.customId, needUserKey: false, checkpoints },
    async user =>
      client.addCompanyMember(await companyId(), { user_id: user.id, user_custom_id: step.customId }),
    error => {
      // Either the user or the company is gone: both are looked up again.
      companyGone = error instanceof UsercomNotFoundError
      return companyGone
    },
  )
  return { succeeded: true, result: {} }
}
