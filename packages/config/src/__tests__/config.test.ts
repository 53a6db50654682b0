import { describe, expect, it } from '@jest/globals'
import { SECRET_VARS, loadConfig, loadConfigOrExit } from '../index'
import { API_KEY, ingestEnv, problemsOf, workerEnv, WRITE_KEY } from './helpers'

describe('defaults', () => {
  it('gives every default from design.md when only the tenant is set', () => {
    const config = loadConfig({ ...ingestEnv, ...workerEnv })
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379')
    expect(config.queuePrefix).toBe('ucd')
    expect(config.logLevel).toBe('info')
    expect(config.logPretty).toBeUndefined()
    expect(config.ingest).toEqual({
      host: '0.0.0.0',
      port: 8080,
      dedupeWindowMinutes: 1440,
      redisTimeoutMs: 800,
      trustProxy: false,
      lingerMs: 2,
      lingerMaxEvents: 500,
      maxBatchItems: 2500,
      metricsHost: '0.0.0.0',
      metricsPort: 9463,
      redisMemoryHighPercent: 90,
    })
    expect(config.worker).toMatchObject({
      concurrency: 50,
      usercomTimeoutMs: 10_000,
      maxRps: undefined,
      retryWindowMinutes: 240,
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 300_000,
      drainTimeoutMs: 25_000,
    })
  })
})

// Every variable: a valid value and what it becomes, then each kind of invalid value.
const valid: Array<[string, string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]> = [
  ['REDIS_URL', 'redis://redis.internal:6380/2', c => c.redisUrl, 'redis://redis.internal:6380/2'],
  [
    'REDIS_URL',
    'rediss://:pw@redis.example.com:6380',
    c => c.redisUrl,
    'rediss://:pw@redis.example.com:6380',
  ],
  ['QUEUE_PREFIX', 'prod', c => c.queuePrefix, 'prod'],
  ['QUEUE_PREFIX', '{ucd}', c => c.queuePrefix, '{ucd}'],
  ['LOG_LEVEL', 'DEBUG', c => c.logLevel, 'debug'],
  ['LOG_LEVEL', 'silent', c => c.logLevel, 'silent'],
  ['LOG_PRETTY', '1', c => c.logPretty, true],
  ['LOG_PRETTY', 'false', c => c.logPretty, false],
  ['INGEST_HOST', '127.0.0.1', c => c.ingest.host, '127.0.0.1'],
  ['INGEST_PORT', '3000', c => c.ingest.port, 3000],
  ['INGEST_PORT', '0', c => c.ingest.port, 0],
  ['DEDUPE_WINDOW_MINUTES', '0', c => c.ingest.dedupeWindowMinutes, 0],
  ['DEDUPE_WINDOW_MINUTES', '60', c => c.ingest.dedupeWindowMinutes, 60],
  ['INGEST_REDIS_TIMEOUT_MS', '500', c => c.ingest.redisTimeoutMs, 500],
  ['INGEST_TRUST_PROXY', 'true', c => c.ingest.trustProxy, true],
  ['INGEST_TRUST_PROXY', 'off', c => c.ingest.trustProxy, false],
  [
    'INGEST_TRUST_PROXY',
    '10.0.0.0/8, loopback,2001:db8::/32',
    c => c.ingest.trustProxy,
    '10.0.0.0/8,loopback,2001:db8::/32',
  ],
  ['WORKER_CONCURRENCY', '200', c => c.worker.concurrency, 200],
  ['USERCOM_TIMEOUT_MS', '2500', c => c.worker.usercomTimeoutMs, 2500],
  ['USERCOM_MAX_RPS', '20', c => c.worker.maxRps, 20],
  ['USERCOM_MAX_RPS', '0.5', c => c.worker.maxRps, 0.5],
  ['USERCOM_MAX_RPS', '', c => c.worker.maxRps, undefined],
  ['USERCOM_MAX_SOCKETS', '32', c => c.worker.maxSockets, 32],
  ['RETRY_WINDOW_MINUTES', '0.05', c => c.worker.retryWindowMinutes, 0.05],
  ['RETRY_BASE_DELAY_MS', '200', c => c.worker.retryBaseDelayMs, 200],
  ['RETRY_MAX_DELAY_MS', '60000', c => c.worker.retryMaxDelayMs, 60_000],
  ['WORKER_MAX_STARTED_ATTEMPTS', '50', c => c.worker.maxStartedAttempts, 50],
  ['WORKER_DRAIN_TIMEOUT_MS', '5000', c => c.worker.drainTimeoutMs, 5000],
  ['WORKER_LOCK_DURATION_MS', '5000', c => c.worker.lockDurationMs, 5000],
  ['WORKER_STALLED_INTERVAL_MS', '1000', c => c.worker.stalledIntervalMs, 1000],
  ['IDENTITY_CACHE_TTL_SECONDS', '60', c => c.worker.identityCacheTtlSeconds, 60],
  ['ATTRIBUTE_CACHE_TTL_SECONDS', '30', c => c.worker.attributeCacheTtlSeconds, 30],
  ['METRICS_HOST', '127.0.0.1', c => c.worker.metricsHost, '127.0.0.1'],
  ['METRICS_PORT', '9100', c => c.worker.metricsPort, 9100],
]

describe.each(valid)('%s=%j', (name, value, read, expected) => {
  it('is accepted and typed', () => {
    const config = loadConfig({ ...ingestEnv, ...workerEnv, [name]: value })
    expect(read(config)).toEqual(expected)
  })
})

const invalid: Array<[string, string, RegExp]> = [
  ['REDIS_URL', 'localhost:6379', /must use redis: or rediss:|must be a URL/],
  ['REDIS_URL', 'http://redis:6379', /must use redis: or rediss:/],
  ['QUEUE_PREFIX', 'a:b', /letters, digits/],
  ['QUEUE_PREFIX', 'x'.repeat(41), /1-40/],
  ['LOG_LEVEL', 'verbose', /must be one of fatal, error/],
  ['LOG_PRETTY', 'maybe', /must be one of 1, 0, true/],
  ['INGEST_PORT', 'http', /whole number from 0 to 65535/],
  ['INGEST_PORT', '70000', /whole number from 0 to 65535/],
  ['INGEST_PORT', '80.5', /whole number/],
  ['DEDUPE_WINDOW_MINUTES', '-1', /whole number from 0/],
  ['INGEST_REDIS_TIMEOUT_MS', '10', /whole number from 50/],
  ['INGEST_TRUST_PROXY', 'maybe', /false, true, or comma-separated proxy addresses/],
  ['INGEST_TRUST_PROXY', '2', /addresses or CIDRs/],
  ['INGEST_TRUST_PROXY', '10.0.0.0/33', /addresses or CIDRs/],
  ['INGEST_TRUST_PROXY', '10.0.0.1,', /addresses or CIDRs/],
  ['WORKER_CONCURRENCY', '0', /whole number from 1/],
  ['WORKER_CONCURRENCY', 'many', /whole number/],
  ['USERCOM_TIMEOUT_MS', '50', /whole number from 100/],
  ['USERCOM_MAX_RPS', '0', /greater than 0/],
  ['USERCOM_MAX_RPS', 'fast', /must be a number/],
  ['USERCOM_MAX_SOCKETS', '0', /whole number from 1/],
  ['RETRY_WINDOW_MINUTES', '0', /greater than 0/],
  ['RETRY_WINDOW_MINUTES', 'forever', /must be a number/],
  ['RETRY_BASE_DELAY_MS', '0', /whole number from 1/],
  ['RETRY_MAX_DELAY_MS', 'x', /whole number/],
  ['WORKER_MAX_STARTED_ATTEMPTS', '0', /whole number from 1/],
  ['WORKER_DRAIN_TIMEOUT_MS', '-5', /whole number from 0/],
  ['WORKER_LOCK_DURATION_MS', '10', /whole number from 1000/],
  ['WORKER_STALLED_INTERVAL_MS', '1', /whole number from 500/],
  ['IDENTITY_CACHE_TTL_SECONDS', '0', /whole number from 1/],
  ['ATTRIBUTE_CACHE_TTL_SECONDS', '0', /whole number from 1/],
  ['METRICS_PORT', '-1', /whole number from 0 to 65535/],
  ['USERCOM_APP_SUBDOMAIN', 'acme.user.com', /subdomain only/],
  ['USERCOM_BASE_URL', 'ftp://sim', /must use http: or https:/],
  ['USERCOM_BASE_URL', 'not a url', /must be a URL/],
]

describe.each(invalid)('%s=%j', (name, value, why) => {
  it('is rejected with the variable named and the reason', () => {
    const problems = problemsOf(() => loadConfig({ ...ingestEnv, ...workerEnv, [name]: value }))
    expect(problems).toHaveLength(1)
    expect(problems[0]!.variable).toBe(name)
    expect(problems[0]!.message).toMatch(why)
  })
})

describe('every problem at once, no secret echoed', () => {
  const env = {
    INGEST_PORT: 'eighty',
    WORKER_CONCURRENCY: '-3',
    LOG_LEVEL: 'loud',
    REDIS_URL: `http://:${API_KEY}@redis:6379`,
    USERCOM_API_KEY: API_KEY,
    USERCOM_BASE_URL: `ftp://${WRITE_KEY}.example`,
    SEGMENT_WRITE_KEY: WRITE_KEY,
  }

  it('reports a missing tenant setting together with invalid values', () => {
    const problems = problemsOf(() => loadConfig({ WORKER_CONCURRENCY: 'lots' }, { app: 'worker' }))
    expect(problems.map(p => p.variable)).toEqual(['WORKER_CONCURRENCY', 'USERCOM_API_KEY'])
  })

  it('lists all of them in one error', () => {
    const problems = problemsOf(() => loadConfig(env, { app: 'any' }))
    expect(problems.map(p => p.variable).sort()).toEqual(
      ['INGEST_PORT', 'LOG_LEVEL', 'REDIS_URL', 'USERCOM_BASE_URL', 'WORKER_CONCURRENCY'].sort(),
    )
  })

  it('prints them all and exits 1 through loadConfigOrExit, without the secrets', () => {
    let printed = ''
    let exitCode: number | undefined
    expect(() =>
      loadConfigOrExit(env, {
        app: 'any',
        stderr: { write: (text: string) => (printed += text) },
        exit: (code: number): never => {
          exitCode = code
          throw new Error('exited')
        },
      }),
    ).toThrow('exited')
    expect(exitCode).toBe(1)
    expect(printed).toMatch(/^Invalid configuration \(5 problems\):/)
    for (const name of ['INGEST_PORT', 'WORKER_CONCURRENCY', 'LOG_LEVEL', 'REDIS_URL', 'USERCOM_BASE_URL']) {
      expect(printed).toContain(`  - ${name}: `)
    }
    expect(printed).not.toContain(API_KEY)
    expect(printed).not.toContain(WRITE_KEY)
  })
})

describe('immutability', () => {
  it('returns a deeply frozen object', () => {
    const config = loadConfig({ ...ingestEnv, ...workerEnv })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.worker)).toBe(true)
    expect(Object.isFrozen(config.tenants.list[0])).toBe(true)
    expect(() => {
      ;(config.worker as { concurrency: number }).concurrency = 1
    }).toThrow(TypeError)
  })
})

describe('each app validates only the variables it reads', () => {
  it('the ingest does not fail on a bad worker variable, and keeps its default', () => {
    const config = loadConfig(
      { ...ingestEnv, WORKER_CONCURRENCY: 'lots', METRICS_PORT: '-1' },
      { app: 'ingest' },
    )
    expect(config.worker.concurrency).toBe(50)
    expect(config.ingest.port).toBe(8080)
  })

  it('a worker does not fail on a bad ingest variable', () => {
    const config = loadConfig(
      { ...workerEnv, INGEST_PORT: 'eighty', INGEST_TRUST_PROXY: 'maybe' },
      { app: 'worker' },
    )
    expect(config.worker.concurrency).toBe(50)
    expect(config.ingest.port).toBe(8080)
  })

  it('the admin CLI reads only the shared variables: no tenants, no TENANTS_FILE', () => {
    const config = loadConfig(
      { QUEUE_PREFIX: 'ops', WORKER_CONCURRENCY: 'lots', INGEST_PORT: 'x', TENANTS_FILE: '/missing.json' },
      { app: 'admin', readFile: () => 'not json' },
    )
    expect(config.queuePrefix).toBe('ops')
    expect(config.tenants.list).toEqual([])
  })

  it('each app still fails on a bad variable it reads, shared ones included', () => {
    for (const [app, env, name] of [
      ['ingest', { ...ingestEnv, INGEST_PORT: 'eighty' }, 'INGEST_PORT'],
      ['worker', { ...workerEnv, WORKER_CONCURRENCY: 'lots' }, 'WORKER_CONCURRENCY'],
      ['admin', { QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX'],
    ] as const) {
      expect(problemsOf(() => loadConfig(env, { app })).map(p => p.variable)).toEqual([name])
    }
  })
})

describe('secrets', () => {
  it('SECRET_VARS lists the variables declared secret', () => {
    expect([...SECRET_VARS].sort()).toEqual([
      'SEGMENT_WEBHOOK_SECRET',
      'SEGMENT_WRITE_KEY',
      'USERCOM_API_KEY',
    ])
  })
})
