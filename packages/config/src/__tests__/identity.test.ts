import { describe, expect, it } from '@jest/globals'
import { ConfigError, loadConfig } from '../index'
import type { ConfigProblem } from '../load'

// The identity settings: IDENTITY_MAPPING_TTL_SECONDS (worker) and the tenant switch mergeAnonymous.

const workerEnv = {
  USERCOM_API_KEY: 'uc_api_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab',
  USERCOM_APP_SUBDOMAIN: 'acme',
}

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  throw new Error('expected a ConfigError')
}

const file = (content: unknown) => ({
  readFile: () => JSON.stringify(content),
})
const tenant = (extra: Record<string, unknown>) => ({
  id: 'acme',
  writeKeys: ['wk_acme_1'],
  usercom: { apiKey: 'uc_acme_secret_key', appSubdomain: 'acme' },
  ...extra,
})

describe('IDENTITY_MAPPING_TTL_SECONDS', () => {
  it('defaults to 30 days and reads a value', () => {
    expect(loadConfig(workerEnv, { app: 'worker' }).worker.identityMappingTtlSeconds).toBe(2_592_000)
    const config = loadConfig({ ...workerEnv, IDENTITY_MAPPING_TTL_SECONDS: '3600' }, { app: 'worker' })
    expect(config.worker.identityMappingTtlSeconds).toBe(3600)
  })

  it('refuses less than a minute, more than a year, and non-numbers', () => {
    for (const value of ['59', String(366 * 86_400), 'forever']) {
      const problems = problemsOf(() =>
        loadConfig({ ...workerEnv, IDENTITY_MAPPING_TTL_SECONDS: value }, { app: 'worker' }),
      )
      expect(problems.map(p => p.variable)).toEqual(['IDENTITY_MAPPING_TTL_SECONDS'])
    }
  })
})

describe('mergeAnonymous', () => {
  it('is on by default (single tenant and tenants file) and can be turned off per tenant', () => {
    expect(loadConfig(workerEnv, { app: 'worker' }).tenants.byId('default')?.mergeAnonymous).toBe(true)
    const env = { TENANTS_FILE: '/etc/ucd/tenants.json' }
    const on = loadConfig(env, { app: 'worker', ...file([tenant({})]) })
    expect(on.tenants.byId('acme')?.mergeAnonymous).toBe(true)
    const off = loadConfig(env, { app: 'worker', ...file([tenant({ mergeAnonymous: false })]) })
    expect(off.tenants.byId('acme')?.mergeAnonymous).toBe(false)
  })

  it('must be a boolean', () => {
    const env = { TENANTS_FILE: '/etc/ucd/tenants.json' }
    const problems = problemsOf(() =>
      loadConfig(env, { app: 'worker', ...file([tenant({ mergeAnonymous: 'yes' })]) }),
    )
    expect(problems.find(p => p.variable === 'TENANTS_FILE[0].mergeAnonymous')?.message).toMatch(
      /true or false/,
    )
  })
})
