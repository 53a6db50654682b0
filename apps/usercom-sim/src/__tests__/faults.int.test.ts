import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '../control'
import { HEADERS, KEY, api, failureOf } from './helpers'

let sim: RunningSimulator
const OTHER = { ...HEADERS, authorization: 'Token other-key' }

beforeAll(async () => {
  sim = await startSimulator({
    keys: [
      { key: KEY, app: 'acme', revoked: false },
      { key: 'other-key', app: 'globex', revoked: false },
    ],
    seed: 1234,
  })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.admin.reset()
})

const statuses = async (n: number): Promise<number[]> => {
  const out: number[] = []
  for (let i = 0; i < n; i += 1) out.push((await api(sim, 'GET', 'attributes/')).status)
  return out
}

describe('control routes', () => {
  it('answers health without auth', async () => {
    const response = await fetch(`${sim.origin}/__sim/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })

  it('refuses invalid control bodies with 400 and the issues', async () => {
    const response = await fetch(`${sim.origin}/__sim/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 3, nonsense: true }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { issues: unknown[] }
    expect(body.issues.length).toBeGreaterThan(0)
    const rule = await fetch(`${sim.origin}/__sim/fail-next`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'FETCH', route: 'events' }),
    })
    expect(rule.status).toBe(400)
  })

  it('shows faults, pending failures and keys (by hint only) in the state', async () => {
    await sim.admin.setFaults({ errorRate: 0.25 })
    await sim.admin.failNext({ method: 'post', route: '/events/', count: 2 })
    const state = await sim.admin.state()
    expect(state.faults.errorRate).toBe(0.25)
    expect(state.pendingFailures).toEqual([{ method: 'POST', route: '/events/', remaining: 2 }])
    expect(state.keys).toContainEqual({ app: 'acme', hint: `…${KEY.slice(-4)}`, revoked: false })
    expect(JSON.stringify(state)).not.toContain(KEY)
  })
})

describe('rate limit', () => {
  it('answers 429 with Retry-After in seconds once the bucket is empty', async () => {
    await sim.admin.setFaults({ rateLimitRps: 0.5, rateLimitBurst: 2 })
    const [a, b] = await statuses(2)
    expect([a, b]).toEqual([200, 200])
    const limited = await api(sim, 'GET', 'attributes/')
    expect(limited.status).toBe(429)
    expect(limited.body.detail).toMatch(/rate limit/)
    const seconds = Number(limited.headers.get('retry-after'))
    expect(Number.isInteger(seconds)).toBe(true)
    expect(seconds).toBeGreaterThanOrEqual(1)
    expect(seconds).toBeLessThanOrEqual(2)
    expect(await sim.admin.requestCount('GET /attributes/', { app: 'acme', status: 429 })).toBe(1)
  })

  it('sends a configured Retry-After, as an HTTP-date when asked', async () => {
    await sim.admin.setFaults({ rateLimitRps: 0.01, rateLimitBurst: 1, retryAfterSeconds: 7 })
    await api(sim, 'GET', 'attributes/')
    expect((await api(sim, 'GET', 'attributes/')).headers.get('retry-after')).toBe('7')
    await sim.admin.setFaults({ retryAfterFormat: 'http-date' })
    await api(sim, 'GET', 'attributes/')
    const before = Date.now()
    const limited = await api(sim, 'GET', 'attributes/')
    expect(limited.status).toBe(429)
    const header = limited.headers.get('retry-after') ?? ''
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
    const waitMs = Date.parse(header) - before
    expect(waitMs).toBeGreaterThan(4000)
    expect(waitMs).toBeLessThanOrEqual(8000)
    await sim.admin.setFaults({ retryAfterFormat: 'none' })
    await api(sim, 'GET', 'attributes/')
    const bare = await api(sim, 'GET', 'attributes/')
    expect(bare.status).toBe(429)
    expect(bare.headers.get('retry-after')).toBeNull()
  })

  it('limits each app on its own', async () => {
    await sim.admin.setFaults({ rateLimitRps: 0.01, rateLimitBurst: 1 })
    expect(await statuses(2)).toEqual([200, 429])
    expect((await api(sim, 'GET', 'attributes/', undefined, OTHER)).status).toBe(200)
  })
})

describe('server errors', () => {
  it('answers every request with the error status at rate 1', async () => {
    await sim.admin.setFaults({ errorRate: 1, errorStatus: 502 })
    expect(await statuses(3)).toEqual([502, 502, 502])
    await sim.admin.setFaults({ errorRate: 0 })
    expect(await statuses(1)).toEqual([200])
  })

  it('merges fault changes: a patch leaves the other faults as they were', async () => {
    await sim.admin.setFaults({ errorRate: 1 })
    const faults = await sim.admin.setFaults({ errorStatus: 500 })
    expect(faults).toMatchObject({ errorRate: 1, errorStatus: 500 })
    expect(await statuses(1)).toEqual([500])
  })

  it('is deterministic with a seed: the same sequence after a reset', async () => {
    await sim.admin.setFaults({ errorRate: 0.5 })
    const first = await statuses(24)
    expect(first).toContain(503)
    expect(first).toContain(200)
    await sim.admin.reset()
    await sim.admin.setFaults({ errorRate: 0.5 })
    expect(await statuses(24)).toEqual(first)
  })

  it('checks auth before faults: an unknown key still gets 401', async () => {
    await sim.admin.setFaults({ errorRate: 1 })
    expect(
      (await api(sim, 'GET', 'attributes/', undefined, { ...HEADERS, authorization: 'Token x' })).status,
    ).toBe(401)
  })
})

describe('latency', () => {
  it('delays responses past a client timeout', async () => {
    await sim.admin.setFaults({ latencyMs: 1500 })
    const failure = await failureOf(
      fetch(`${sim.baseUrl}attributes/`, { headers: HEADERS, signal: AbortSignal.timeout(100) }),
    )
    expect(failure).toMatch(/abort|timeout/i)
    await sim.admin.setFaults({ latencyMs: 0, jitterMs: 5 })
    expect((await api(sim, 'GET', 'attributes/')).status).toBe(200)
  })
})

describe('dropped connections', () => {
  it('destroys the connection without a response at drop rate 1', async () => {
    await sim.admin.setFaults({ dropRate: 1 })
    const failure = await failureOf(api(sim, 'POST', 'users/update_or_create/', { custom_id: 'u' }))
    expect(failure).toBeDefined()
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.users).toEqual([])
    expect(state.apps.acme?.requests['POST /users/update_or_create/']).toEqual({ dropped: 1 })
  })
})

describe('targeted failures', () => {
  const setup = async () => {
    const { body: user } = await api(sim, 'POST', 'users/update_or_create/', { custom_id: 'u' })
    const { body: company } = await api(sim, 'POST', 'companies/', { custom_id: 'c' })
    return { user, company }
  }

  it('fails the next N matching requests before they take effect', async () => {
    const { user, company } = await setup()
    await sim.admin.failNext({ method: 'POST', route: '/companies/:id/add_member/', count: 2, status: 503 })
    const add = () => api(sim, 'POST', `companies/${company.id}/add_member/`, { user_id: user.id })
    expect((await add()).status).toBe(503)
    expect((await sim.admin.state('acme')).apps.acme?.companies[0]?.members).toEqual([])
    expect((await add()).status).toBe(503)
    expect((await add()).status).toBe(200)
    expect((await sim.admin.state('acme')).apps.acme?.companies[0]?.members).toEqual([user.id])
    expect(await sim.admin.requestCount('POST /companies/:id/add_member/', { app: 'acme' })).toBe(3)
  })

  it('only matches its method, route and app', async () => {
    await sim.admin.failNext({ method: 'GET', route: '/attributes/', status: 500, app: 'globex' })
    expect((await api(sim, 'GET', 'attributes/')).status).toBe(200)
    expect(
      (await api(sim, 'POST', 'attributes/', { name: 'x', content_type: 'clientuser', value_type: 'string' }))
        .status,
    ).toBe(201)
    expect((await api(sim, 'GET', 'attributes/', undefined, OTHER)).status).toBe(500)
    expect((await api(sim, 'GET', 'attributes/', undefined, OTHER)).status).toBe(200)
  })

  it('phase "after" lets the write happen and loses the response', async () => {
    const { user } = await setup()
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 504, phase: 'after' })
    const event = { user_id: user.id, name: 'Paid', data: {}, timestamp: 1_700_000_000 }
    expect((await api(sim, 'POST', 'events/', event)).status).toBe(504)
    await sim.admin.failNext({ method: 'POST', route: '/events/', drop: true, phase: 'after' })
    expect(await failureOf(api(sim, 'POST', 'events/', event))).toBeDefined()
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.events).toHaveLength(2)
    expect(state.apps.acme?.requests['POST /events/']).toEqual({ '504-applied': 1, 'dropped-applied': 1 })
    expect(await sim.admin.requestCount('POST /events/', { app: 'acme', status: 504 })).toBe(1)
  })

  it('drops before the write, or sends 429 with the given Retry-After', async () => {
    await setup()
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', drop: true })
    expect(await failureOf(api(sim, 'POST', 'users/update_or_create/', { custom_id: 'v' }))).toBeDefined()
    expect((await api(sim, 'GET', 'users-by-id/v/')).status).toBe(404)
    await sim.admin.failNext({
      method: 'GET',
      route: '/users-by-id/:custom_id/',
      status: 429,
      retryAfter: '12',
    })
    const limited = await api(sim, 'GET', 'users-by-id/u/')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('12')
  })

  it('delays one request only', async () => {
    await sim.admin.failNext({ method: 'GET', route: '/attributes/', delayMs: 1500 })
    const failure = await failureOf(
      fetch(`${sim.baseUrl}attributes/`, { headers: HEADERS, signal: AbortSignal.timeout(100) }),
    )
    expect(failure).toMatch(/abort|timeout/i)
    expect((await api(sim, 'GET', 'attributes/')).status).toBe(200)
  })
})

describe('lost responses (applied, then 504)', () => {
  it('loses writes only, at lostResponseRate, after applying them; counted as 504-applied', async () => {
    await sim.admin.setFaults({ lostResponseRate: 1 })
    const write = await api(sim, 'POST', 'users/update_or_create/', { custom_id: 'u' })
    expect(write.status).toBe(504)
    expect(write.body).toEqual({ detail: expect.any(String) })
    const read = await api(sim, 'GET', 'users-by-id/u/')
    expect(read.status).toBe(200)
    const put = await api(sim, 'POST', 'companies/', { custom_id: 'c' })
    expect(put.status).toBe(504)
    expect((await api(sim, 'PUT', 'companies-by-id/c/', { name: 'C' })).status).toBe(504)
    // A refused write is answered as it is: nothing was applied.
    expect((await api(sim, 'POST', 'users/update_or_create/', { custom_id: '' })).status).toBe(400)
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.companies[0]?.name).toBe('C')
    expect(state.apps.acme?.requests).toMatchObject({
      'POST /users/update_or_create/': { '504-applied': 1, '400': 1 },
      'GET /users-by-id/:custom_id/': { '200': 1 },
      'PUT /companies-by-id/:custom_id/': { '504-applied': 1 },
    })
    expect(await sim.admin.requestCount('POST /users/update_or_create/', { status: '504-applied' })).toBe(1)
    expect(await sim.admin.requestCount('POST /users/update_or_create/', { status: 504 })).toBe(1)
  })

  it('loses about the configured share, deterministically with the seed', async () => {
    await sim.admin.setFaults({ lostResponseRate: 0.3 })
    const run = async (): Promise<number[]> => {
      const out: number[] = []
      for (let i = 0; i < 30; i += 1) {
        out.push((await api(sim, 'POST', 'users/update_or_create/', { custom_id: `u${i}` })).status)
      }
      return out
    }
    const first = await run()
    expect(first).toContain(504)
    expect(first).toContain(200)
    expect((await sim.admin.state('acme')).apps.acme?.users).toHaveLength(30)
    await sim.admin.reset()
    await sim.admin.setFaults({ lostResponseRate: 0.3 })
    expect(await run()).toEqual(first)
  })

  it('afterApply: true is the targeted one-shot form', async () => {
    const { body: user } = await api(sim, 'POST', 'users/update_or_create/', { custom_id: 'u' })
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 504, afterApply: true })
    const event = { user_id: user.id, name: 'Paid', data: {}, timestamp: 1_700_000_000 }
    expect((await api(sim, 'POST', 'events/', event)).status).toBe(504)
    expect((await api(sim, 'POST', 'events/', event)).status).toBe(201)
    expect((await sim.admin.events('acme', 'u')).count).toBe(2)
    expect(await sim.admin.requestCount('POST /events/', { app: 'acme', status: '504-applied' })).toBe(1)
    const contradiction = await fetch(`${sim.origin}/__sim/fail-next`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', route: '/events/', afterApply: true, phase: 'before' }),
    })
    expect(contradiction.status).toBe(400)
  })
})

describe('per-app outages', () => {
  it('answers every request of one app with 429 for a duration while another app is served', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z')
    const clocked = await startSimulator({
      keys: [
        { key: KEY, app: 'acme', revoked: false },
        { key: 'other-key', app: 'globex', revoked: false },
      ],
      clock: () => now,
    })
    try {
      await clocked.admin.failApp('acme', { durationMs: 60_000, retryAfter: '5' })
      for (const [method, path, body] of [
        ['GET', 'attributes/', undefined],
        ['POST', 'users/update_or_create/', { custom_id: 'u' }],
        ['GET', 'users-by-id/u/events/', undefined],
      ] as const) {
        const response = await api(clocked, method, path, body)
        expect(response.status).toBe(429)
        expect(response.headers.get('retry-after')).toBe('5')
        expect((await api(clocked, method, path, body, OTHER)).status).toBeLessThan(400)
      }
      const pending = (await clocked.admin.state()).pendingFailures
      expect(pending).toEqual([
        { method: '*', route: '*', remaining: null, app: 'acme', until: '2025-01-01T00:01:00.000Z' },
      ])
      now += 60_000
      expect((await api(clocked, 'GET', 'attributes/')).status).toBe(200)
      expect((await clocked.admin.state()).pendingFailures).toEqual([])
      expect(await clocked.admin.requestCount('GET /attributes/', { app: 'acme', status: 429 })).toBe(1)
    } finally {
      await clocked.close()
    }
  })

  it('a wildcard route with a count fails that many requests of any route', async () => {
    await sim.admin.failNext({ method: 'POST', route: '*', count: 2, status: 502 })
    expect((await api(sim, 'POST', 'users/update_or_create/', { custom_id: 'u' })).status).toBe(502)
    expect((await api(sim, 'GET', 'attributes/')).status).toBe(200)
    expect((await api(sim, 'POST', 'companies/', { custom_id: 'c' })).status).toBe(502)
    expect((await api(sim, 'POST', 'companies/', { custom_id: 'c' })).status).toBe(201)
    await sim.admin.failNext({ method: 'GET', route: '/attributes/', count: 5 })
    await sim.admin.clearFailures()
    expect((await api(sim, 'GET', 'attributes/')).status).toBe(200)
  })
})
