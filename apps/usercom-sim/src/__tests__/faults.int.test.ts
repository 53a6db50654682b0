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
    expect(state.apps.acme?.requests['POST /events/']).toEqual({ '504': 1, dropped: 1 })
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
