import { describe, expect, it } from '@jest/globals'
import { PlanSchema } from '../index'

describe('PlanSchema (the planner/executor contract)', () => {
  it('accepts a group plan and rejects an unknown operation', () => {
    const plan = {
      eventType: 'group',
      messageId: 'm1',
      customId: '019mr8mf4r',
      dropped: [],
      steps: [
        {
          op: 'ensure_attribute',
          key: 'attribute:company:industry',
          contentType: 'company',
          name: 'industry',
          nameStd: 'industry',
          valueType: 'string',
        },
        { op: 'resolve_user', key: 'user', customId: '019mr8mf4r', needUserKey: false },
        { op: 'upsert_company', key: 'company', companyCustomId: '8e9df332ac', body: { name: 'Initech' } },
        { op: 'add_company_member', key: 'member', companyCustomId: '8e9df332ac', customId: '019mr8mf4r' },
      ],
    }
    expect(PlanSchema.parse(plan).steps.map(s => s.op)).toEqual([
      'ensure_attribute',
      'resolve_user',
      'upsert_company',
      'add_company_member',
    ])
    const bad = { ...plan, steps: [{ op: 'delete_user', key: 'x' }] }
    expect(PlanSchema.safeParse(bad).success).toBe(false)
  })
})
