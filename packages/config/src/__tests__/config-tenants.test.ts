import { describe, expect, it } from '@jest/globals'
import { loadConfig } from '../index'
import { API_KEY, ingestEnv, problemsOf, workerEnv, WRITE_KEY } from './helpers'

describe('tenants from single-tenant variables', () => {
  it('ingest needs SEGMENT_WRITE_KEY and finds the tenant by it', () => {
    const config = loadConfig(ingestEnv, { app: 'ingest' })
    expect(config.tenants.list).toHaveLength(1)
    expect(config.tenants.byWriteKey(WRITE_KEY)?.id).toBe('default')
    expect(config.tenants.byWriteKey('wrong')).toBeUndefined()
    expect(config.tenants.byWriteKey('')).toBeUndefined()
    expect(problemsOf(() => loadConfig({}, { app: 'ingest' }))).toEqual([
      expect.objectContaining({ variable: 'SEGMENT_WRITE_KEY', message: expect.stringMatching(/required/) }),
    ])
  })

  it('SEGMENT_WEBHOOK_SECRET belongs to the write key tenant, is a secret, and needs the write key', () => {
    const secret = 'whsec_0123456789abcdef'
    const config = loadConfig({ ...ingestEnv, SEGMENT_WEBHOOK_SECRET: secret }, { app: 'ingest' })
    expect(config.tenants.byWriteKey(WRITE_KEY)?.webhookSecret).toBe(secret)
    expect(config.secrets).toContain(secret)
    expect(loadConfig(ingestEnv, { app: 'ingest' }).tenants.byId('default')?.webhookSecret).toBeUndefined()
    const problems = problemsOf(() =>
      loadConfig({ ...workerEnv, SEGMENT_WEBHOOK_SECRET: secret }, { app: 'worker' }),
    )
    expect(problems).toEqual([
      { variable: 'SEGMENT_WEBHOOK_SECRET', message: expect.stringMatching(/needs SEGMENT_WRITE_KEY/) },
    ])
    expect(JSON.stringify(problems)).not.toContain(secret)
  })

  it('worker needs USERCOM_API_KEY and a subdomain or base URL, and finds the tenant by id', () => {
    const config = loadConfig(workerEnv, { app: 'worker' })
    expect(config.tenants.byId('default')?.usercom).toEqual({
      apiKey: API_KEY,
      baseUrl: 'https://acme.user.com/api/public/',
    })
    expect(config.tenants.byId('other')).toBeUndefined()
    expect(problemsOf(() => loadConfig({}, { app: 'worker' })).map(p => p.variable)).toEqual([
      'USERCOM_API_KEY',
    ])
    expect(
      problemsOf(() => loadConfig({ USERCOM_API_KEY: API_KEY }, { app: 'worker' })).map(p => p.variable),
    ).toEqual(['USERCOM_APP_SUBDOMAIN'])
    expect(
      problemsOf(() => loadConfig({ USERCOM_APP_SUBDOMAIN: 'acme' }, { app: 'worker' })).map(p => p.variable),
    ).toEqual(['USERCOM_API_KEY'])
  })

  it('USERCOM_BASE_URL overrides the subdomain and gets its trailing slash', () => {
    const config = loadConfig(
      { ...workerEnv, USERCOM_BASE_URL: 'http://127.0.0.1:4010/api/public' },
      { app: 'worker' },
    )
    expect(config.tenants.byId('default')?.usercom?.baseUrl).toBe('http://127.0.0.1:4010/api/public/')
  })

  it('admin needs no tenant', () => {
    expect(loadConfig({}, { app: 'admin' }).tenants.list).toEqual([])
  })
})

describe('TENANTS_FILE', () => {
  const file = (content: unknown) => ({
    readFile: (path: string) => {
      if (path !== '/etc/ucd/tenants.json') throw Object.assign(new Error('nope'), { code: 'ENOENT' })
      return typeof content === 'string' ? content : JSON.stringify(content)
    },
  })
  const tenants = [
    {
      id: 'acme',
      writeKeys: ['wk_acme_1', 'wk_acme_2'],
      usercom: { apiKey: 'uc_acme_secret_key', appSubdomain: 'acme' },
      maxRequestsPerSecond: 10,
      webhookSecret: 'whsec_acme_shared',
    },
    {
      id: 'globex',
      writeKeys: ['wk_globex'],
      usercom: { apiKey: 'uc_globex_secret', baseUrl: 'http://127.0.0.1:9/api/public/' },
    },
  ]
  const env = { TENANTS_FILE: '/etc/ucd/tenants.json' }

  it('loads every tenant, looked up by write key and by id', () => {
    const config = loadConfig(env, { app: 'worker', ...file(tenants) })
    expect(config.tenants.byWriteKey('wk_acme_2')?.id).toBe('acme')
    expect(config.tenants.byWriteKey('wk_globex')?.id).toBe('globex')
    expect(config.tenants.byId('acme')).toMatchObject({
      maxRequestsPerSecond: 10,
      usercom: { baseUrl: 'https://acme.user.com/api/public/' },
    })
    expect(config.tenants.byId('globex')?.usercom?.baseUrl).toBe('http://127.0.0.1:9/api/public/')
    expect(config.tenants.byId('acme')?.webhookSecret).toBe('whsec_acme_shared')
    expect(config.tenants.byId('globex')?.webhookSecret).toBeUndefined()
    expect(config.secrets).toEqual(
      expect.arrayContaining([
        'wk_acme_1',
        'wk_acme_2',
        'wk_globex',
        'uc_acme_secret_key',
        'uc_globex_secret',
        'whsec_acme_shared',
      ]),
    )
  })

  it('reports each bad entry with its path', () => {
    const bad = [
      { id: 'has space', writeKeys: ['k1'], usercom: { apiKey: 'uc_x_secret_value', appSubdomain: 'x' } },
      { id: 'b', writeKeys: 'k2', usercom: { appSubdomain: 'x' } },
      { id: 'c', writeKeys: ['k3'], usercom: { apiKey: 'uc_c_secret_value' }, maxRequestsPerSecond: -1 },
      { id: 'd', writeKeys: ['k4'], usercom: { apiKey: 'uc_d_secret_value', baseUrl: 'x' }, extra: true },
      {
        id: 'e',
        writeKeys: ['k5'],
        usercom: { apiKey: 'uc_e_secret_value', appSubdomain: 'e' },
        webhookSecret: ' ',
      },
    ]
    const problems = problemsOf(() => loadConfig(env, file(bad)))
    const variables = problems.map(p => p.variable)
    expect(variables).toEqual(
      expect.arrayContaining([
        'TENANTS_FILE[0].id',
        'TENANTS_FILE[1].writeKeys',
        'TENANTS_FILE[1].usercom.apiKey',
        'TENANTS_FILE[2].usercom',
        'TENANTS_FILE[2].maxRequestsPerSecond',
        'TENANTS_FILE[3].usercom.baseUrl',
        'TENANTS_FILE[3]',
        'TENANTS_FILE[4].webhookSecret',
      ]),
    )
    expect(problems.find(p => p.variable === 'TENANTS_FILE[2].usercom')?.message).toMatch(
      /appSubdomain or baseUrl/,
    )
  })

  it('reads the planning settings pageDomain (an origin) and screens ("event" or "off", default off)', () => {
    const withSettings = [
      { ...tenants[0], pageDomain: 'https://www.acme.example/', screens: 'event' },
      tenants[1],
    ]
    const config = loadConfig(env, { app: 'worker', ...file(withSettings) })
    expect(config.tenants.byId('acme')).toMatchObject({
      pageDomain: 'https://www.acme.example',
      screens: 'event',
    })
    expect(config.tenants.byId('globex')?.screens).toBe('off')
    expect(config.tenants.byId('globex')?.pageDomain).toBeUndefined()

    const bad = [
      { ...tenants[0], pageDomain: 'https://www.acme.example/pricing?x=1', screens: 'yes' },
      { ...tenants[1], pageDomain: 'www.globex.example' },
    ]
    const problems = problemsOf(() => loadConfig(env, file(bad)))
    expect(problems.map(p => p.variable)).toEqual(
      expect.arrayContaining([
        'TENANTS_FILE[0].pageDomain',
        'TENANTS_FILE[0].screens',
        'TENANTS_FILE[1].pageDomain',
      ]),
    )
  })

  it('rejects duplicate ids and a write key shared by two tenants', () => {
    const dup = [
      { id: 'a', writeKeys: ['same_key'], usercom: { apiKey: 'uc_a_secret_value', appSubdomain: 'a' } },
      { id: 'a', writeKeys: ['same_key'], usercom: { apiKey: 'uc_b_secret_value', appSubdomain: 'b' } },
    ]
    const problems = problemsOf(() => loadConfig(env, file(dup)))
    expect(problems.map(p => p.variable)).toEqual(['TENANTS_FILE[1].id', 'TENANTS_FILE[1].writeKeys[0]'])
    expect(problems.map(p => p.message).join('\n')).not.toContain('same_key')
  })

  it('says when the file cannot be read, is not JSON, is not a list or is empty', () => {
    expect(problemsOf(() => loadConfig({ TENANTS_FILE: '/missing.json' }, file(tenants)))[0]).toEqual({
      variable: 'TENANTS_FILE',
      message: 'cannot read /missing.json (ENOENT)',
    })
    const broken = '[{"id":"a","usercom":{"apiKey":"uc_leaky_secret_value" oops}}]'
    const notJson = problemsOf(() => loadConfig(env, file(broken)))
    expect(notJson[0]!.message).toMatch(/is not valid JSON/)
    expect(JSON.stringify(notJson)).not.toContain('uc_leaky_secret_value')
    expect(problemsOf(() => loadConfig(env, file({ id: 'a' })))[0]!.message).toMatch(/JSON list of tenants/)
    expect(problemsOf(() => loadConfig(env, file([])))[0]!.message).toMatch(/lists no tenants/)
  })

  it('ingest refuses a file where no tenant has a write key', () => {
    const noKeys = [{ id: 'a', usercom: { apiKey: 'uc_a_secret_value', appSubdomain: 'a' } }]
    expect(problemsOf(() => loadConfig(env, { app: 'ingest', ...file(noKeys) }))[0]!.message).toMatch(
      /no tenant has a write key/,
    )
    expect(loadConfig(env, { app: 'worker', ...file(noKeys) }).tenants.list).toHaveLength(1)
  })

  it('refuses TENANTS_FILE together with the single-tenant variables', () => {
    const problems = problemsOf(() => loadConfig({ ...env, SEGMENT_WRITE_KEY: WRITE_KEY }, file(tenants)))
    expect(problems[0]).toEqual({
      variable: 'TENANTS_FILE',
      message: expect.stringMatching(
        /either TENANTS_FILE or the single-tenant variables \(SEGMENT_WRITE_KEY\)/,
      ),
    })
  })
})
