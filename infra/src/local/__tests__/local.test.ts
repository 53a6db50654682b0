// Pure parts of the local stack and the demo: which User.com and tenants, the printed lines, stack.json,
// leftover detection, the demo's delivery checks and its refusals when there is no stack to run against.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { loadConfig } from '@ucd/config'
import type { SimAppState } from '@ucd/usercom-sim'
import { runDemo } from '../demo'
import { deliveredStream, describeCall, isDelivered, revokedStream } from '../demo-events'
import { curlLine, envLine, planTenants, reachableHost, shellQuote } from '../plan'
import { redactUrl } from '@ucd/testing'
import { findRedisServer, redisServerArgs } from '../redis'
import { isLeftover } from '../leftovers'
import { readStackInfo, removeStackInfo, stackDir, writeStackInfo, type StackInfo } from '../stack-info'

const tmp = mkdtempSync(join(tmpdir(), 'ucd-local-unit-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function sampleInfo(overrides: Partial<StackInfo> = {}): StackInfo {
  return {
    version: 1,
    startedAt: '2024-05-01T12:00:00.000Z',
    launcherPid: process.pid,
    mode: 'simulator',
    redis: { url: 'redis://127.0.0.1:6379', source: 'local' },
    queuePrefix: 'ucd',
    ingest: { url: 'http://127.0.0.1:8080', port: 8080, metricsUrl: 'http://127.0.0.1:9463' },
    simulator: {
      origin: 'http://127.0.0.1:4010',
      baseUrl: 'http://127.0.0.1:4010/api/public/',
      port: 4010,
      apps: { acme: 'acme', globex: 'globex' },
    },
    workers: [{ name: 'worker-1', metricsUrl: 'http://127.0.0.1:9464', port: 9464 }],
    tenantsFile: join(tmp, 'tenants.json'),
    tenants: [
      { id: 'acme', writeKeys: ['wk_local_acme'] },
      { id: 'globex', writeKeys: ['wk_local_globex'] },
    ],
    processes: [{ name: 'ingest', pid: 4242, command: '/usr/bin/node /repo/apps/ingest/dist/main.js' }],
    adminEnv: { REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: 'ucd' },
    ...overrides,
  }
}

describe('planTenants', () => {
  it('runs the simulator with two tenants, one simulator app and key each, when no User.com is configured', () => {
    const plan = planTenants({}, () => 'r')
    expect(plan.mode).toBe('simulator')
    if (plan.mode !== 'simulator') return
    expect(plan.tenants).toEqual([
      { id: 'acme', writeKey: 'wk_local_acme', app: 'acme', apiKey: 'sim_acme_r' },
      { id: 'globex', writeKey: 'wk_local_globex', app: 'globex', apiKey: 'sim_globex_r' },
    ])
    expect(plan.simKeys).toBe('sim_acme_r:acme,sim_globex_r:globex')
    // The tenants file is one the apps accept, pointing both tenants at the simulator.
    const file = join(tmp, 'plan-tenants.json')
    writeFileSync(file, plan.tenantsFile('http://127.0.0.1:4010/api/public/'))
    const config = loadConfig({ TENANTS_FILE: file }, { app: 'worker' })
    expect(config.tenants.list.map(t => [t.id, t.writeKeys, t.usercom])).toEqual([
      ['acme', ['wk_local_acme'], { apiKey: 'sim_acme_r', baseUrl: 'http://127.0.0.1:4010/api/public/' }],
      [
        'globex',
        ['wk_local_globex'],
        { apiKey: 'sim_globex_r', baseUrl: 'http://127.0.0.1:4010/api/public/' },
      ],
    ])
  })

  it('uses SEGMENT_WRITE_KEY as the first tenant write key with the simulator', () => {
    const plan = planTenants({ SEGMENT_WRITE_KEY: 'wk_mine' })
    expect(plan.mode === 'simulator' && plan.tenants.map(t => t.writeKey)).toEqual([
      'wk_mine',
      'wk_local_globex',
    ])
  })

  it('gives SEGMENT_WEBHOOK_SECRET to the first tenant, in the tenants file the apps load', () => {
    const plan = planTenants({ SEGMENT_WEBHOOK_SECRET: 'whsec_mine' }, () => 'r')
    if (plan.mode !== 'simulator') throw new Error('expected the simulator plan')
    const file = join(tmp, 'plan-webhook-tenants.json')
    writeFileSync(file, plan.tenantsFile('http://127.0.0.1:4010/api/public/'))
    const config = loadConfig({ TENANTS_FILE: file }, { app: 'ingest' })
    expect(config.tenants.list.map(t => [t.id, t.webhookSecret])).toEqual([
      ['acme', 'whsec_mine'],
      ['globex', undefined],
    ])
  })

  it('makes each simulator key unguessable by default', () => {
    const a = planTenants({})
    const b = planTenants({})
    expect(a.mode === 'simulator' && b.mode === 'simulator' && a.simKeys !== b.simKeys).toBe(true)
  })

  it('talks to a real User.com, with no simulator, when USERCOM_API_KEY and a subdomain or base URL are set', () => {
    const plan = planTenants({ USERCOM_API_KEY: 'k', USERCOM_APP_SUBDOMAIN: 'acme' }, () => 'x')
    expect(plan).toMatchObject({ mode: 'usercom', env: { SEGMENT_WRITE_KEY: 'wk_local_x' } })
    expect(plan.summary).toContain('https://acme.user.com/api/public/')
    const kept = planTenants({
      USERCOM_API_KEY: 'k',
      USERCOM_BASE_URL: 'https://p/',
      SEGMENT_WRITE_KEY: 'wk',
    })
    expect(kept).toMatchObject({ mode: 'usercom', env: { SEGMENT_WRITE_KEY: 'wk' } })
    expect(kept.summary).toContain('https://p/')
  })

  it('treats a half-configured User.com as User.com (so @ucd/config names what is missing), and TENANTS_FILE as given', () => {
    expect(planTenants({ USERCOM_APP_SUBDOMAIN: 'acme' }).mode).toBe('usercom')
    expect(planTenants({ TENANTS_FILE: '/etc/ucd/tenants.json' })).toMatchObject({ mode: 'usercom', env: {} })
  })
})

describe('printed lines', () => {
  it('quotes for a POSIX shell only when needed', () => {
    expect(shellQuote('wk_local_acme:')).toBe('wk_local_acme:')
    expect(shellQuote('{"a":"b c"}')).toBe(`'{"a":"b c"}'`)
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(envLine({ REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: '{ucd}' })).toBe(
      "REDIS_URL=redis://127.0.0.1:6379 QUEUE_PREFIX='{ucd}'",
    )
  })

  it('prints a one-line curl sending a track with Basic auth', () => {
    expect(curlLine('http://127.0.0.1:8080', 'wk_local_acme')).toBe(
      `curl -u wk_local_acme: -H 'Content-Type: application/json' ` +
        `-d '{"userId":"user-1","event":"Signed Up","properties":{"plan":"pro"}}' http://127.0.0.1:8080/v1/track`,
    )
  })

  it('reaches a wildcard listen address on loopback', () => {
    expect(reachableHost('0.0.0.0')).toBe('127.0.0.1')
    expect(reachableHost('::')).toBe('127.0.0.1')
    expect(reachableHost('::1')).toBe('[::1]')
    expect(reachableHost('10.0.0.5')).toBe('10.0.0.5')
  })

  it('hides a Redis password in messages', () => {
    expect(redactUrl('redis://:s3cret@redis.internal:6380/2')).toBe('redis://:***@redis.internal:6380/2')
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
  })
})

describe('Redis binary', () => {
  it('finds an executable redis-server on PATH, skipping directories without one', () => {
    const empty = join(tmp, 'bin-empty')
    const bin = join(tmp, 'bin')
    mkdirSync(empty, { recursive: true })
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'redis-server'), '#!/bin/sh\n')
    chmodSync(join(bin, 'redis-server'), 0o755)
    expect(findRedisServer(`${empty}:${bin}`)).toBe(join(bin, 'redis-server'))
    expect(findRedisServer(empty)).toBeUndefined()
    expect(findRedisServer(undefined)).toBeUndefined()
  })

  it('starts a throwaway redis-server: loopback, nothing persisted', () => {
    expect(redisServerArgs(7000, '/tmp/x')).toEqual([
      '--port',
      '7000',
      '--bind',
      '127.0.0.1',
      '--dir',
      '/tmp/x',
      '--save',
      '',
      '--appendonly',
      'no',
    ])
  })
})

describe('stack.json', () => {
  it('is written owner-only, read back, and removed only by the launcher that wrote it', () => {
    const dir = join(tmp, 'stack-a')
    const info = sampleInfo()
    const path = writeStackInfo(dir, info)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const read = readStackInfo(dir)
    expect(read).toMatchObject({ status: 'ok', info })
    removeStackInfo(dir, process.pid + 1)
    expect(readStackInfo(dir).status).toBe('ok')
    removeStackInfo(dir, process.pid)
    expect(readStackInfo(dir).status).toBe('missing')
  })

  it('says when the file is not a stack file', () => {
    const dir = join(tmp, 'stack-b')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'stack.json'), '{"version": 2}')
    expect(readStackInfo(dir).status).toBe('invalid')
    writeFileSync(join(dir, 'stack.json'), 'not json')
    expect(readStackInfo(dir)).toMatchObject({ status: 'invalid', problem: 'not JSON' })
  })

  it('lives in LOCAL_STACK_DIR, else .local-stack at the repository root', () => {
    expect(stackDir('/tmp/elsewhere')).toBe('/tmp/elsewhere')
    expect(stackDir(undefined)).toMatch(/\/\.local-stack$/)
  })
})

describe('leftovers of a killed launcher', () => {
  const node = { name: 'ingest', pid: 1, command: '/usr/bin/node /repo/apps/ingest/dist/main.js' }
  const redis = {
    name: 'redis-server',
    pid: 2,
    command: '/usr/bin/redis-server --port 41234 --bind 127.0.0.1 --dir /tmp/x --save  --appendonly no',
  }

  it('are processes still running exactly what the stack started', () => {
    expect(isLeftover(node, node.command)).toBe(true)
    expect(isLeftover(node, '/usr/bin/node something-else.js')).toBe(false)
    expect(isLeftover(node, undefined)).toBe(false)
  })

  it('recognise a redis-server by its rewritten title and port', () => {
    expect(isLeftover(redis, '/usr/bin/redis-server 127.0.0.1:41234')).toBe(true)
    expect(isLeftover(redis, '/usr/bin/redis-server 127.0.0.1:6379')).toBe(false)
  })
})

describe('demo stream', () => {
  const empty: SimAppState = {
    totals: { users: 0, companies: 0, events: 0, pageViews: 0, attributes: 0, merges: 0 },
    users: [],
    companies: [],
    events: [],
    eventDefinitions: [],
    pageViews: [],
    attributes: [],
    merges: [],
    requests: {},
  }

  it('covers every call type for both tenants, with ids of the run', () => {
    const types = (calls: ReturnType<typeof deliveredStream>) => new Set(calls.map(c => c.type))
    expect([...types(deliveredStream('demo-x'))].sort()).toEqual(['group', 'identify', 'page', 'track'])
    expect([...types(revokedStream('demo-x'))].sort()).toEqual(['group', 'identify', 'page', 'track'])
    for (const call of [...deliveredStream('demo-x'), ...revokedStream('demo-x')]) {
      expect(describeCall(call)).toContain('demo-x-')
    }
    const audience = deliveredStream('demo-x').find(
      c => c.type === 'track' && c.params.event === 'Audience Entered',
    )
    expect(audience?.params.context).toMatchObject({ personas: { computation_class: 'audience' } })
  })

  it('counts a call as delivered only once its effect is in the simulator', () => {
    const [identify, , audience] = deliveredStream('r')
    expect(identify && isDelivered(identify, empty)).toBe(false)
    expect(identify && isDelivered(identify, undefined)).toBe(false)
    const user = {
      id: 1,
      custom_id: 'r-ada',
      email: 'ada.lovelace@example.com',
      attributes: { plan: 'enterprise' } as Record<string, unknown>,
    }
    const state = { ...empty, users: [user] } as unknown as SimAppState
    expect(identify && isDelivered(identify, state)).toBe(true)
    // The audience identify needs its boolean trait.
    expect(audience && isDelivered(audience, state)).toBe(false)
    user.attributes.high_value_customers = true
    expect(audience && isDelivered(audience, state)).toBe(true)
  })
})

describe('pnpm demo without a stack to run against', () => {
  function capture(): { write(text: string): boolean; text(): string } {
    let text = ''
    return { write: chunk => ((text += chunk), true), text: () => text }
  }

  it('says how to start the stack when none runs', async () => {
    const err = capture()
    const code = await runDemo({ env: { LOCAL_STACK_DIR: join(tmp, 'nothing') }, out: capture(), err })
    expect(code).toBe(1)
    expect(err.text()).toContain('No local stack is running')
    expect(err.text()).toContain('npm start')
  })

  it('says the stack is gone when stack.json is left over', async () => {
    const dir = join(tmp, 'stale')
    writeStackInfo(dir, sampleInfo({ launcherPid: 2 ** 22 + 1 }))
    const err = capture()
    expect(await runDemo({ env: { LOCAL_STACK_DIR: dir }, out: capture(), err })).toBe(1)
    expect(err.text()).toContain('left over from a stack that is gone')
  })

  it('refuses a stack that talks to a real User.com', async () => {
    const dir = join(tmp, 'real')
    writeStackInfo(dir, sampleInfo({ mode: 'usercom', simulator: null }))
    const err = capture()
    expect(await runDemo({ env: { LOCAL_STACK_DIR: dir }, out: capture(), err })).toBe(1)
    expect(err.text()).toContain('needs the stack to run the User.com simulator')
  })
})
