import { describe, expect, it } from '@jest/globals'
import { ConfigError, loadConfig } from '../index'

// The per-user consistency settings of the worker (issue 14): DLQ retention and the benchmark switch.

const env = {
  SEGMENT_WRITE_KEY: 'wk_live_5f0c1d2e3a4b5c6d',
  USERCOM_API_KEY: 'uc_api_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab',
  USERCOM_APP_SUBDOMAIN: 'acme',
}

describe('consistency settings', () => {
  it('default to 30 days of DLQ retention and consistency on', () => {
    const config = loadConfig(env)
    expect(config.worker.dlqRetentionDays).toBe(30)
    expect(config.worker.consistency).toBe(true)
  })

  it('take DLQ_RETENTION_DAYS and WORKER_CONSISTENCY', () => {
    const config = loadConfig({ ...env, DLQ_RETENTION_DAYS: '7', WORKER_CONSISTENCY: 'false' })
    expect(config.worker.dlqRetentionDays).toBe(7)
    expect(config.worker.consistency).toBe(false)
  })

  it.each([
    ['DLQ_RETENTION_DAYS', '0'],
    ['DLQ_RETENTION_DAYS', '1.5'],
    ['WORKER_CONSISTENCY', 'maybe'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ ...env, [name]: value })).toThrow(ConfigError)
  })
})
