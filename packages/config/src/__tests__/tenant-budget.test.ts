import { describe, expect, it } from '@jest/globals'
import { ConfigError, loadConfig } from '../index'

// Issue 18: a tenant's budget of new User.com attributes per hour (`newAttributesPerHour`, default 50).

const API_KEY = 'uc_api_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab'
const tenant = (extra: Record<string, unknown> = {}) => ({
  id: 'acme',
  writeKeys: ['wk_acme'],
  usercom: { apiKey: API_KEY, appSubdomain: 'acme' },
  ...extra,
})
const load = (tenants: unknown[]) =>
  loadConfig({ TENANTS_FILE: '/tenants.json' }, { app: 'worker', readFile: () => JSON.stringify(tenants) })

describe('newAttributesPerHour', () => {
  it('defaults to 50, in the tenants file and for the single tenant', () => {
    expect(load([tenant()]).tenants.byId('acme')?.newAttributesPerHour).toBe(50)
    const single = loadConfig({ USERCOM_API_KEY: API_KEY, USERCOM_APP_SUBDOMAIN: 'acme' }, { app: 'worker' })
    expect(single.tenants.byId('default')?.newAttributesPerHour).toBe(50)
  })

  it('takes a whole number of 0 or more (0: no new attribute at all)', () => {
    expect(load([tenant({ newAttributesPerHour: 0 })]).tenants.byId('acme')?.newAttributesPerHour).toBe(0)
    expect(load([tenant({ newAttributesPerHour: 500 })]).tenants.byId('acme')?.newAttributesPerHour).toBe(500)
  })

  it('names a bad value', () => {
    for (const bad of [-1, 2.5, 'many']) {
      let problems: readonly { variable: string }[] = []
      try {
        load([tenant({ newAttributesPerHour: bad })])
      } catch (error) {
        if (error instanceof ConfigError) problems = error.problems
      }
      expect(problems.map(p => p.variable)).toContain('TENANTS_FILE[0].newAttributesPerHour')
    }
  })
})
