import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '../control'
import { KEY, api } from './helpers'

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

describe('standard fields as the reference lists them', () => {
  it('refuses read-only and unknown fields, naming every one at once, and stores nothing', async () => {
    const readOnly = [
      'browser',
      'browser_language',
      'os_type',
      'resolution',
      'last_ip',
      'first_seen',
      'last_seen',
      'page_views',
      'created_at',
      'updated_at',
      'id',
      'user_key',
      'key',
      'name',
      'companies',
      'attributes',
    ]
    const body: Record<string, unknown> = { custom_id: 'u', email: 'a@example.com', plan: 'gold' }
    for (const field of readOnly) body[field] = 'x'
    const response = await upsert(body)
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors).sort()).toEqual([...readOnly, 'plan'].sort())
    expect(response.body.errors.browser[0]).toMatch(/read-only/)
    expect(response.body.errors.plan[0]).toMatch(/does not exist/)
    expect((await sim.admin.state('acme')).apps.acme?.users).toEqual([])
  })

  it('limits strings to 255 characters and URLs to 2000', async () => {
    const ok = await upsert({
      custom_id: 'c'.repeat(255),
      city: 'x'.repeat(255),
      gravatar_url: `https://e.com/${'a'.repeat(1986)}`,
      tags: ['t'.repeat(255)],
    })
    expect(ok.status).toBe(200)
    const long = await upsert({
      custom_id: 'c'.repeat(256),
      city: 'x'.repeat(256),
      region: 'x'.repeat(256),
      country: 'x'.repeat(256),
      timezone: 'x'.repeat(256),
      gravatar_url: `https://e.com/${'a'.repeat(1987)}`,
      tags: ['t'.repeat(256)],
    })
    expect(long.status).toBe(400)
    expect(Object.keys(long.body.errors).sort()).toEqual(
      ['city', 'country', 'custom_id', 'gravatar_url', 'region', 'tags', 'timezone'].sort(),
    )
  })

  it('null clears a standard field or an attribute; an omitted one keeps its value', async () => {
    await sim.admin.seedAttributes({ app: 'acme', attributes: [{ name: 'plan' }] })
    await upsert({
      custom_id: 'u',
      email: 'a@example.com',
      first_name: 'Ada',
      phone_number: '+48123456789',
      gender: 3,
      score: 7,
      unsubscribed: true,
      tags: ['vip'],
      plan: 'gold',
    })
    const cleared = await upsert({
      custom_id: 'u',
      email: null,
      phone_number: null,
      gender: null,
      score: null,
      unsubscribed: null,
      tags: null,
      plan: null,
      company_custom_id: null,
    })
    expect(cleared.status).toBe(200)
    const { body: user } = await api(sim, 'GET', 'users-by-id/u/')
    expect(user).toMatchObject({
      email: null,
      first_name: 'Ada',
      phone_number: null,
      gender: 'unknown',
      score: 0,
      unsubscribed: false,
      tags: [],
    })
    expect(user.attributes).toEqual([expect.objectContaining({ name_std: 'plan', value: null })])
  })

  it('takes assigned_to and company_id (an existing company joins it), and shows the widget fields as null', async () => {
    const { body: company } = await api(sim, 'POST', 'companies/', { custom_id: 'c', name: 'C' })
    const bad = await upsert({ custom_id: 'u', assigned_to: 'agent', company_id: -1 })
    expect(Object.keys(bad.body.errors).sort()).toEqual(['assigned_to', 'company_id'])
    expect((await upsert({ custom_id: 'u', assigned_to: 12, company_id: company.id })).status).toBe(200)
    expect((await upsert({ custom_id: 'v', company_id: 999 })).status).toBe(200)
    const { body: user } = await api(sim, 'GET', 'users-by-id/u/')
    expect(user).toMatchObject({
      assigned_to: 12,
      companies: [{ id: company.id, name: 'C', member_since: expect.any(String) }],
      browser: null,
      os_type: null,
      resolution: null,
      last_ip: null,
      first_seen: null,
      key: user.user_key,
    })
    const { body: other } = await api(sim, 'GET', 'users-by-id/v/')
    expect(other.companies).toEqual([])
  })
})
