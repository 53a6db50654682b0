import { describe, expect, it } from '@jest/globals'
import { flagsToEnv, parseSimEnv } from '../env'

describe('parseSimEnv', () => {
  it('has defaults', () => {
    const result = parseSimEnv({})
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.config.host).toBe('127.0.0.1')
    expect(result.config.port).toBe(4010)
    expect(result.config.options.keys).toEqual([{ key: 'sim-api-key', app: 'default', revoked: false }])
    expect(result.config.options.basePath).toBe('/api/public')
    expect(result.config.options.faults.rateLimitRps).toBeNull()
  })

  it('reads keys, apps, revoked keys and faults from env', () => {
    const result = parseSimEnv({
      SIM_KEYS: 'k1:acme, k2:globex,k3',
      SIM_REVOKED_KEYS: 'k2',
      SIM_LATENCY_MS: '25',
      SIM_JITTER_MS: '5',
      SIM_ERROR_RATE: '0.1',
      SIM_DROP_RATE: '0.05',
      SIM_RATE_LIMIT_RPS: '50',
      SIM_RETRY_AFTER: '3',
      SIM_RETRY_AFTER_FORMAT: 'http-date',
      SIM_SEED: '42',
      SIM_PORT: '0',
    })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const { options, port } = result.config
    expect(port).toBe(0)
    expect(options.keys).toEqual([
      { key: 'k1', app: 'acme', revoked: false },
      { key: 'k2', app: 'globex', revoked: true },
      { key: 'k3', app: 'default', revoked: false },
    ])
    expect(options.seed).toBe(42)
    expect(options.faults).toMatchObject({
      latencyMs: 25,
      jitterMs: 5,
      errorRate: 0.1,
      dropRate: 0.05,
      rateLimitRps: 50,
      retryAfterSeconds: 3,
      retryAfterFormat: 'http-date',
    })
  })

  it('reads the lost-response rate and the event page size, from env or flags', () => {
    const result = parseSimEnv({ SIM_LOST_RESPONSE_RATE: '0.05' }, ['--event-page-size=3'])
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.config.options.faults.lostResponseRate).toBe(0.05)
    expect(result.config.options.eventPageSize).toBe(3)
    const bad = parseSimEnv({ SIM_LOST_RESPONSE_RATE: '1.5', SIM_EVENT_PAGE_SIZE: '0' })
    expect(bad.ok).toBe(false)
    if (bad.ok) return
    expect(bad.problems.join('\n')).toMatch(
      /SIM_LOST_RESPONSE_RATE[\s\S]*SIM_EVENT_PAGE_SIZE|SIM_EVENT_PAGE_SIZE[\s\S]*SIM_LOST_RESPONSE_RATE/,
    )
  })

  it('lets flags override env', () => {
    const result = parseSimEnv({ SIM_LATENCY_MS: '5' }, [
      '--latency-ms=70',
      '--port',
      '4999',
      '--log-level',
      'warn',
    ])
    expect(result.ok && result.config.options.faults.latencyMs).toBe(70)
    expect(result.ok && result.config.port).toBe(4999)
    expect(result.ok && result.config.logLevel).toBe('warn')
  })

  it('names every problem', () => {
    const result = parseSimEnv({ SIM_PORT: 'http', SIM_ERROR_RATE: '2', SIM_RETRY_AFTER_FORMAT: 'later' })
    expect(result.ok).toBe(false)
    if (result.ok) return
    const text = result.problems.join('\n')
    expect(text).toMatch(/SIM_PORT/)
    expect(text).toMatch(/SIM_ERROR_RATE/)
    expect(text).toMatch(/SIM_RETRY_AFTER_FORMAT/)
  })

  it('ignores a bare -- (as `pnpm sim -- --flag` passes it)', () => {
    const problems: string[] = []
    expect(flagsToEnv(['--', '--seed', '9'], problems)).toEqual({ SIM_SEED: '9' })
    expect(problems).toEqual([])
  })

  it('rejects stray arguments', () => {
    const problems: string[] = []
    expect(flagsToEnv(['oops', '--seed'], problems)).toEqual({})
    expect(problems).toHaveLength(2)
  })
})
