import type { UsercomClient } from '@ucd/usercom-client'
import { isBadRequest, outgoingBody } from './common'
import type { Step, StepRunner } from './context'

/** `PUT /companies-by-id/:cid/`, else create; a create that lost a race updates the winner's. */
export async function upsertCompanyById(
  client: UsercomClient,
  step: Step<'upsert_company'>,
): Promise<{ id: number }> {
  const body = outgoingBody(step)
  const updated = await client.updateCompanyByCustomId(step.companyCustomId, body)
  if (updated !== null) return { id: updated.id }
  try {
    const created = await client.createCompany({ ...body, custom_id: step.companyCustomId })
    return { id: created.id }
  } catch (error) {
    if (!isBadRequest(error)) throw error
    const again = await client.updateCompanyByCustomId(step.companyCustomId, body)
    if (again === null) throw error
    return { id: again.id }
  }
}

/** group: the company by its custom id. A 400 asks for a re-plan (a fresh catalog, or the body without the fields it names). */
export const upsertCompany: StepRunner<'upsert_company'> = async (step, { client }) => {
  try {
    return { succeeded: true, result: await upsertCompanyById(client, step) }
  } catch (error) {
    if (isBadRequest(error)) return { succeeded: false, replan: { kind: 'body_rejected', error } }
    throw error
  }
}
