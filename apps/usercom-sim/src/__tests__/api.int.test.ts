import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '../control'
import { HEADERS, KEY, api } from './helpers'

let sim: RunningSimulator

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.admin.reset()
})

const upsert = (body: Record<string, unknown>) => api(sim, 'POST', 'users/update_or_create/', body)
describe('transport rules', () => {
  it('answers 401 without a token or with an unknown key', async () => {
    const { authorization: _, ...noAuth } = HEADERS
    const missing = await api(sim, 'GET', 'attributes/', undefined, noAuth)
    expect(missing.status).toBe(401)
    expect(missing.body.detail).toMatch(/credentials/)
    const unknown = await api(sim, 'GET', 'attributes/', undefined, {
      ...HEADERS,
      authorization: 'Token nope',
    })
    expect(unknown.status).toBe(401)
    const bearer = await api(sim, 'GET', 'attributes/', undefined, {
      ...HEADERS,
      authorization: `Bearer ${KEY}`,
    })
    expect(bearer.status).toBe(401)
  })

  it('answers 403 for a revoked key, and serves it again once restored', async () => {
    await sim.admin.revoke(KEY)
    const revoked = await api(sim, 'GET', 'attributes/')
    expect(revoked.status).toBe(403)
    expect(revoked.body).toEqual({ detail: expect.stringMatching(/revoked/) })
    await sim.admin.restore(KEY)
    expect((await api(sim, 'GET', 'attributes/')).status).toBe(200)
  })

  it('requires the version 2 Accept header, with or without the space', async () => {
    const { accept: _, ...noAccept } = HEADERS
    const missing = await api(sim, 'GET', 'attributes/', undefined, noAccept)
    expect(missing.status).toBe(400)
    expect(missing.body.detail).toMatch(/version=2/)
    const v1 = await api(sim, 'GET', 'attributes/', undefined, { ...HEADERS, accept: '*/*; version=1' })
    expect(v1.status).toBe(400)
    expect(v1.body.detail).toMatch(/Unsupported/)
    const json = await api(sim, 'GET', 'attributes/', undefined, { ...HEADERS, accept: 'application/json' })
    expect(json.status).toBe(400)
    expect(
      (await api(sim, 'GET', 'attributes/', undefined, { ...HEADERS, accept: '*/*;version=2' })).status,
    ).toBe(200)
    expect(
      (await api(sim, 'GET', 'attributes/', undefined, { ...HEADERS, accept: '*/*; version=2' })).status,
    ).toBe(200)
  })

  it('requires the trailing slash (404 without it)', async () => {
    const response = await api(sim, 'GET', 'attributes')
    expect(response.status).toBe(404)
    expect(response.body).toEqual({ detail: 'Not found.' })
    expect((await upsert({ custom_id: 'u' })).status).toBe(200)
    expect((await api(sim, 'POST', 'users/update_or_create', { custom_id: 'u' })).status).toBe(404)
  })

  it('answers malformed JSON and non-object bodies with 400, unknown media types with 415', async () => {
    const bad = await fetch(`${sim.baseUrl}users/update_or_create/`, {
      method: 'POST',
      headers: HEADERS,
      body: '{"custom_id":',
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: unknown }).errors).toBeDefined()
    const text = await fetch(`${sim.baseUrl}users/update_or_create/`, {
      method: 'POST',
      headers: { ...HEADERS, 'content-type': 'text/plain' },
      body: 'custom_id=u',
    })
    expect(text.status).toBe(400)
    const xml = await fetch(`${sim.baseUrl}users/update_or_create/`, {
      method: 'POST',
      headers: { ...HEADERS, 'content-type': 'application/xml' },
      body: '<custom_id>u</custom_id>',
    })
    expect(xml.status).toBe(415)
  })

  it('counts requests by route template and status, per app and in total', async () => {
    await upsert({ custom_id: 'a' })
    await upsert({ custom_id: 'b', first_name: 'x'.repeat(41) })
    await api(sim, 'GET', 'users-by-id/nobody/')
    await api(sim, 'GET', 'nowhere/')
    const state = await sim.admin.state()
    expect(state.apps.acme?.requests).toEqual({
      'POST /users/update_or_create/': { '200': 1, '400': 1 },
      'GET /users-by-id/:custom_id/': { '404': 1 },
      'GET /api/public/nowhere/': { '404': 1 },
    })
    expect(state.requests['GET /api/public/nowhere/']).toEqual({ '404': 1 })
    expect(await sim.admin.requestCount('POST /users/update_or_create/', { app: 'acme', status: 200 })).toBe(
      1,
    )
  })
})

describe('bounded records and summary', () => {
  it('keeps the newest events within maxStoredRecords while the totals keep counting', async () => {
    const small = await startSimulator({
      keys: [{ key: KEY, app: 'acme', revoked: false }],
      maxStoredRecords: 10,
    })
    try {
      const { body: user } = await api(small, 'POST', 'users/update_or_create/', { custom_id: 'u' })
      for (let i = 0; i < 25; i += 1) {
        await api(small, 'POST', 'events/', {
          user_id: user.id,
          name: `e${i}`,
          data: {},
          timestamp: 1_700_000_000,
        })
      }
      const app = (await small.admin.state('acme')).apps.acme
      expect(app?.totals).toMatchObject({ users: 1, events: 25 })
      expect(app?.events.length).toBeGreaterThanOrEqual(10)
      expect(app?.events.length).toBeLessThanOrEqual(11)
      expect(app?.events.at(-1)?.name).toBe('e24')
      const summary = await small.admin.summary()
      expect(summary.apps.acme?.totals.events).toBe(25)
      expect(summary.apps.acme?.requests['POST /events/']).toEqual({ '201': 25 })
    } finally {
      await small.close()
    }
  })
})

describe('apps', () => {
  it('keeps each app apart: a key sees only its own app', async () => {
    await sim.admin.addKey('other-key', 'globex')
    await upsert({ custom_id: 'shared-id' })
    const other = await api(sim, 'GET', 'users-by-id/shared-id/', undefined, {
      ...HEADERS,
      authorization: 'Token other-key',
    })
    expect(other.status).toBe(404)
    const state = await sim.admin.state()
    expect(state.apps.acme?.users).toHaveLength(1)
    expect(state.apps.globex?.users).toHaveLength(0)
  })

  it('resets data, counts and added keys', async () => {
    await sim.admin.addKey('temp-key', 'temp')
    await upsert({ custom_id: 'u' })
    await sim.admin.reset()
    const state = await sim.admin.state()
    expect(state.apps.acme?.users).toEqual([])
    expect(state.requests).toEqual({})
    expect(state.apps.temp).toBeUndefined()
    expect(
      (await api(sim, 'GET', 'attributes/', undefined, { ...HEADERS, authorization: 'Token temp-key' }))
        .status,
    ).toBe(401)
  })
})
