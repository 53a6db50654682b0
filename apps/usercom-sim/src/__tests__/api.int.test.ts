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
    })
    expect(state.requests['(unmatched)']).toEqual({ '404': 1 })
    expect(await sim.admin.requestCount('POST /users/update_or_create/', { app: 'acme', status: 200 })).toBe(
      1,
    )
  })
})

describe('users', () => {
  it('update_or_create creates, then updates the same user by custom_id', async () => {
    const first = await upsert({
      custom_id: 'user-1',
      email: 'a@example.com',
      first_name: 'Ada',
      tags: ['a'],
    })
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ created: true, id: expect.any(Number) })
    const second = await upsert({ custom_id: 'user-1', last_name: 'Lovelace', tags: ['b'] })
    expect(second.body).toEqual({ created: false, id: first.body.id })
    const user = await api(sim, 'GET', `users/${first.body.id}/`)
    expect(user.status).toBe(200)
    expect(user.body).toMatchObject({
      id: first.body.id,
      custom_id: 'user-1',
      email: 'a@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      name: 'Ada Lovelace',
      tags: [{ name: 'a' }, { name: 'b' }],
      page_views: 0,
      last_seen: null,
    })
    expect(user.body.user_key).toMatch(/^[a-z0-9]{12}$/)
  })

  it('requires custom_id', async () => {
    const response = await upsert({ email: 'a@example.com' })
    expect(response.status).toBe(400)
    expect(response.body.errors.custom_id).toBeDefined()
  })

  it('gets users by id and by URL-encoded custom id; 404 when unknown', async () => {
    const ids = ['a/b', 'x+y@example.com', 'hash#tag', 'with space', 'zażółć']
    for (const customId of ids) {
      const { body } = await upsert({ custom_id: customId })
      const byCustom = await api(sim, 'GET', `users-by-id/${encodeURIComponent(customId)}/`)
      expect(byCustom.status).toBe(200)
      expect(byCustom.body).toMatchObject({ id: body.id, custom_id: customId })
    }
    expect((await api(sim, 'GET', 'users-by-id/missing/')).status).toBe(404)
    expect((await api(sim, 'GET', 'users/999/')).status).toBe(404)
    expect((await api(sim, 'GET', 'users/abc/')).status).toBe(404)
  })

  it('limits first and last names to 40 characters', async () => {
    expect(
      (await upsert({ custom_id: 'u', first_name: 'x'.repeat(40), last_name: 'ł'.repeat(40) })).status,
    ).toBe(200)
    const long = await upsert({ custom_id: 'u', first_name: 'x'.repeat(41), last_name: 'y'.repeat(41) })
    expect(long.status).toBe(400)
    expect(Object.keys(long.body.errors).sort()).toEqual(['first_name', 'last_name'])
  })

  it('accepts phone numbers only in E.164', async () => {
    expect((await upsert({ custom_id: 'u', phone_number: '+48123456789' })).status).toBe(200)
    for (const phone of ['48123456789', '+48 123 456 789', '(555) 010-9999', '+0123']) {
      const response = await upsert({ custom_id: 'u', phone_number: phone })
      expect(response.status).toBe(400)
      expect(response.body.errors.phone_number[0]).toMatch(/E\.164/)
    }
  })

  it('validates standard field types', async () => {
    const response = await upsert({
      custom_id: 'u',
      gender: 'male',
      status: 3,
      score: 1.5,
      unsubscribed: 'no',
      tags: 'vip',
      email: 'not an email',
    })
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors).sort()).toEqual(
      ['email', 'gender', 'score', 'status', 'tags', 'unsubscribed'].sort(),
    )
    const good = await upsert({
      custom_id: 'u',
      gender: 3,
      status: 2,
      score: 10,
      unsubscribed: true,
      notifications: false,
    })
    expect(good.status).toBe(200)
    const user = await api(sim, 'GET', 'users-by-id/u/')
    expect(user.body).toMatchObject({ gender: 'female', status: 'user', score: 10, unsubscribed: true })
  })

  it('rejects custom attributes that do not exist, naming them', async () => {
    const response = await upsert({ custom_id: 'u', plan: 'gold', browser: 'Firefox' })
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors).sort()).toEqual(['browser', 'plan'])
    expect(response.body.errors.plan[0]).toMatch(/"plan" does not exist/)
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.users).toEqual([])
  })

  it('validates custom attribute values against their types and stores them', async () => {
    await sim.admin.seedAttributes({
      app: 'acme',
      attributes: [
        { name: 'plan', value_type: 'fixed', choices: ['free', 'pro'] },
        { name: 'seats', value_type: 'integer' },
        { name: 'renews on', value_type: 'date' },
        { name: 'last login', value_type: 'datetime' },
        { name: 'prefs', value_type: 'json' },
      ],
    })
    const bad = await upsert({
      custom_id: 'u',
      plan: 'gold',
      seats: '3',
      renews_on: '03/04/2025',
      last_login: 12,
    })
    expect(bad.status).toBe(400)
    expect(Object.keys(bad.body.errors).sort()).toEqual(['last_login', 'plan', 'renews_on', 'seats'])
    const good = await upsert({
      custom_id: 'u',
      plan: 'pro',
      seats: 3,
      renews_on: '2025-04-03',
      last_login: '2025-01-01T10:00:00.000Z',
      prefs: { dark: true },
    })
    expect(good.status).toBe(200)
    const user = await api(sim, 'GET', 'users-by-id/u/')
    expect(user.body.attributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name_std: 'plan', value: 'pro' }),
        expect.objectContaining({ name_std: 'seats', value: 3 }),
        expect.objectContaining({ name_std: 'prefs', value: { dark: true } }),
      ]),
    )
    expect((await upsert({ custom_id: 'u', seats: null })).status).toBe(200)
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.users[0]?.attributes.seats).toBeNull()
  })

  it('joins an existing company through company_custom_id', async () => {
    const company = await api(sim, 'POST', 'companies/', { custom_id: 'acme-inc', name: 'Acme' })
    await upsert({ custom_id: 'u', company_custom_id: 'acme-inc' })
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.companies[0]?.members).toHaveLength(1)
    expect(state.apps.acme?.users[0]?.companies).toEqual([
      { id: company.body.id, name: 'Acme', member_since: expect.any(String) },
    ])
  })
})

describe('attributes', () => {
  it('creates attributes with name_std and refuses duplicates', async () => {
    const created = await api(sim, 'POST', 'attributes/', {
      name: 'Favorite Color',
      content_type: 'clientuser',
      value_type: 'string',
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: expect.any(Number),
      name: 'Favorite Color',
      name_std: 'favorite_color',
      value_type: 'string',
      content_type: 'clientuser',
    })
    const duplicate = await api(sim, 'POST', 'attributes/', {
      name: 'favorite_color',
      content_type: 'clientuser',
      value_type: 'string',
    })
    expect(duplicate.status).toBe(400)
    expect(duplicate.body.errors.name[0]).toMatch(/already exists/)
    const forCompanies = await api(sim, 'POST', 'attributes/', {
      name: 'favorite_color',
      content_type: 'company',
      value_type: 'string',
    })
    expect(forCompanies.status).toBe(201)
  })

  it('validates name length, types and choices', async () => {
    const response = await api(sim, 'POST', 'attributes/', {
      name: 'x'.repeat(33),
      content_type: 'person',
      value_type: 'text',
    })
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors).sort()).toEqual(['content_type', 'name', 'value_type'])
    const fixed = await api(sim, 'POST', 'attributes/', {
      name: 'tier',
      content_type: 'clientuser',
      value_type: 'fixed',
    })
    expect(fixed.status).toBe(400)
    expect(fixed.body.errors.choices).toBeDefined()
    const reserved = await api(sim, 'POST', 'attributes/', {
      name: 'Email',
      content_type: 'clientuser',
      value_type: 'string',
    })
    expect(reserved.status).toBe(400)
  })

  it('lists 100 a page with next as a full URL', async () => {
    await sim.admin.seedAttributes({
      app: 'acme',
      attributes: Array.from({ length: 230 }, (_, i) => ({ name: `attr ${i}` })),
    })
    const first = await api(sim, 'GET', 'attributes/')
    expect(first.body.count).toBe(230)
    expect(first.body.results).toHaveLength(100)
    expect(first.body.previous).toBeNull()
    expect(first.body.next).toBe(`${sim.baseUrl}attributes/?page=2`)
    const names: string[] = first.body.results.map((a: { name_std: string }) => a.name_std)
    let next: string | null = first.body.next
    while (next) {
      const page = await fetch(next, { headers: HEADERS })
      const body = (await page.json()) as { next: string | null; results: { name_std: string }[] }
      names.push(...body.results.map(a => a.name_std))
      next = body.next
    }
    expect(names).toHaveLength(230)
    expect(new Set(names).size).toBe(230)
    expect((await api(sim, 'GET', 'attributes/?page=9')).status).toBe(404)
  })
})

describe('events', () => {
  it('records occurrences; created is true only for the first of a name', async () => {
    const { body: user } = await upsert({ custom_id: 'u' })
    const first = await api(sim, 'POST', 'events/', {
      user_id: user.id,
      name: 'Signed Up',
      data: { plan: 'pro' },
      timestamp: 1_700_000_000,
    })
    expect(first.status).toBe(201)
    expect(first.body).toEqual({ id: expect.any(Number), created: true })
    const second = await api(sim, 'POST', 'events/', {
      user_id: user.id,
      name: 'Signed Up',
      data: { seats: 2 },
      timestamp: 1_700_000_100,
    })
    expect(second.body.created).toBe(false)
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.events).toHaveLength(2)
    expect(state.apps.acme?.eventDefinitions).toEqual([
      { name: 'Signed Up', properties: ['plan', 'seats'], occurrences: 2 },
    ])
  })

  it('answers 404 for an unknown user and 400 for bad fields', async () => {
    const unknown = await api(sim, 'POST', 'events/', {
      user_id: 12345,
      name: 'x',
      data: {},
      timestamp: 1_700_000_000,
    })
    expect(unknown.status).toBe(404)
    const { body: user } = await upsert({ custom_id: 'u' })
    const bad = await api(sim, 'POST', 'events/', {
      user_id: user.id,
      name: '',
      data: [1],
      timestamp: 1_700_000_000_000,
    })
    expect(bad.status).toBe(400)
    expect(Object.keys(bad.body.errors).sort()).toEqual(['data', 'name', 'timestamp'])
    const iso = await api(sim, 'POST', 'events/', {
      user_id: user.id,
      name: 'x',
      timestamp: '2024-01-01T00:00:00Z',
    })
    expect(iso.status).toBe(400)
  })
})

describe('site views', () => {
  it('increments page_views and moves last_seen only forward', async () => {
    const { body: created } = await upsert({ custom_id: 'u' })
    const { body: user } = await api(sim, 'GET', `users/${created.id}/`)
    const view = (timestamp: string | number) =>
      api(sim, 'POST', 'site-views/', {
        client_user: user.user_key,
        page_domain: 'https://example.com',
        page_path: '/pricing?ref=ad',
        timestamp,
        page_title: 'Pricing',
      })
    expect((await view('2024-05-01T10:00:00.000Z')).status).toBe(201)
    expect((await view('2024-04-01T10:00:00+02:00')).status).toBe(201)
    expect((await view(1_714_600_000)).status).toBe(201)
    const after = await api(sim, 'GET', `users/${created.id}/`)
    expect(after.body.page_views).toBe(3)
    expect(after.body.last_seen).toBe(new Date(1_714_600_000_000).toISOString())
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.pageViews[1]).toMatchObject({
      timestamp: '2024-04-01T08:00:00.000Z',
      page_path: '/pricing?ref=ad',
    })
  })

  it('rejects unknown user keys, full URLs as page_domain and bad timestamps', async () => {
    const unknown = await api(sim, 'POST', 'site-views/', {
      client_user: 'nosuchuserkey',
      page_domain: 'https://example.com',
      page_path: '/',
      timestamp: '2024-05-01T10:00:00Z',
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.errors.client_user).toBeDefined()
    const { body: created } = await upsert({ custom_id: 'u' })
    const { body: user } = await api(sim, 'GET', `users/${created.id}/`)
    const bad = await api(sim, 'POST', 'site-views/', {
      client_user: user.user_key,
      page_domain: 'https://example.com/pricing',
      page_path: 'pricing',
      timestamp: 'yesterday',
    })
    expect(bad.status).toBe(400)
    expect(Object.keys(bad.body.errors).sort()).toEqual(['page_domain', 'page_path', 'timestamp'])
  })
})

describe('companies', () => {
  it('creates, refuses a duplicate custom_id, gets and updates by id and by custom id', async () => {
    const created = await api(sim, 'POST', 'companies/', {
      custom_id: 'g/1',
      name: 'Acme',
      size: 10,
      phone_numbers: ['+48123456789'],
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      id: expect.any(Number),
      custom_id: 'g/1',
      name: 'Acme',
      size: 10,
      employees: [],
    })
    expect((await api(sim, 'POST', 'companies/', { custom_id: 'g/1' })).status).toBe(400)
    const path = `companies-by-id/${encodeURIComponent('g/1')}/`
    expect((await api(sim, 'GET', path)).body.id).toBe(created.body.id)
    const byCustom = await api(sim, 'PUT', path, { city: 'Warsaw' })
    expect(byCustom.body).toMatchObject({ name: 'Acme', city: 'Warsaw' })
    const byId = await api(sim, 'PUT', `companies/${created.body.id}/`, { description: 'Rockets' })
    expect(byId.body).toMatchObject({ city: 'Warsaw', description: 'Rockets' })
    expect((await api(sim, 'GET', `companies/${created.body.id}/`)).body.description).toBe('Rockets')
    expect((await api(sim, 'GET', 'companies-by-id/missing/')).status).toBe(404)
    expect((await api(sim, 'PUT', 'companies-by-id/missing/', { name: 'x' })).status).toBe(404)
  })

  it('validates company fields and custom company attributes', async () => {
    await sim.admin.seedAttributes({
      app: 'acme',
      attributes: [{ name: 'founded', content_type: 'company', value_type: 'integer' }],
    })
    const bad = await api(sim, 'POST', 'companies/', {
      custom_id: 'c',
      size: 'big',
      founded: 'long ago',
      industry: 'x',
    })
    expect(bad.status).toBe(400)
    expect(Object.keys(bad.body.errors).sort()).toEqual(['founded', 'industry', 'size'])
    const good = await api(sim, 'POST', 'companies/', { custom_id: 'c', founded: 1999 })
    expect(good.body.founded).toBe(1999)
    expect((await api(sim, 'POST', 'companies/', { name: 'no id' })).status).toBe(400)
  })

  it('adds members idempotently; 404 for an unknown company or user', async () => {
    const { body: company } = await api(sim, 'POST', 'companies/', { custom_id: 'c', name: 'C' })
    const { body: user } = await upsert({ custom_id: 'u' })
    const add = () =>
      api(sim, 'POST', `companies/${company.id}/add_member/`, { user_id: user.id, user_custom_id: 'u' })
    const first = await add()
    expect(first.status).toBe(200)
    expect(first.body.added).toBe(true)
    const again = await add()
    expect(again.status).toBe(200)
    expect(again.body.added).toBe(false)
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.companies[0]?.members).toEqual([user.id])
    expect(state.apps.acme?.users[0]?.companies).toHaveLength(1)
    expect((await api(sim, 'POST', 'companies/999/add_member/', { user_id: user.id })).status).toBe(404)
    expect((await api(sim, 'POST', `companies/${company.id}/add_member/`, { user_id: 999 })).status).toBe(404)
    const mismatch = await api(sim, 'POST', `companies/${company.id}/add_member/`, {
      user_id: user.id,
      user_custom_id: 'other',
    })
    expect(mismatch.status).toBe(400)
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
