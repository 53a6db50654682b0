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

describe('attribute names and fixed choices', () => {
  const create = (body: Record<string, unknown>) => api(sim, 'POST', 'attributes/', body)

  it('snake-cases the name as the reference example does', async () => {
    const created = await create({
      name: 'API string attribute',
      content_type: 'clientuser',
      value_type: 'string',
    })
    expect(created.body).toMatchObject({ name: 'API string attribute', name_std: 'api_string_attribute' })
  })

  it('refuses a name whose name_std is a standard field, read-only ones included', async () => {
    for (const name of [
      'Resolution',
      'Browser',
      'Last IP',
      'os type',
      'First Seen',
      'page_views',
      'userKey',
    ]) {
      const response = await create({ name, content_type: 'clientuser', value_type: 'string' })
      expect(response.status).toBe(400)
      expect(response.body.errors.name[0]).toMatch(/standard field/)
    }
    const company = await create({ name: 'Employees', content_type: 'company', value_type: 'integer' })
    expect(company.body.errors.name[0]).toMatch(/standard field/)
    // Names that are standard only for users are free for companies, and the other way round.
    expect((await create({ name: 'Browser', content_type: 'company', value_type: 'string' })).status).toBe(
      201,
    )
    expect(
      (await sim.admin.seedAttributes({ app: 'acme', attributes: [{ name: 'Employees' }] }))[0]?.name_std,
    ).toBe('employees')
  })

  it('names every problem of the body at once', async () => {
    const response = await create({
      name: 'Browser',
      content_type: 'clientuser',
      value_type: 'text',
      allow_multiple_choices: 'yes',
      colour: 'red',
    })
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors).sort()).toEqual([
      'allow_multiple_choices',
      'colour',
      'name',
      'value_type',
    ])
  })

  it('refuses values outside the choices of a fixed attribute, naming it; lists with multiple choices', async () => {
    await create({ name: 'Plan', content_type: 'clientuser', value_type: 'fixed', choices: ['free', 'pro'] })
    await create({
      name: 'Channels',
      content_type: 'clientuser',
      value_type: 'fixed',
      choices: ['email', 'sms', 'push'],
      allow_multiple_choices: true,
    })
    const bad = await upsert({ custom_id: 'u', plan: 'gold', channels: ['email', 'fax'] })
    expect(bad.status).toBe(400)
    expect(bad.body.errors.plan[0]).toMatch(
      /"gold" is not a valid choice for attribute "plan".*"free", "pro"/,
    )
    expect(bad.body.errors.channels[0]).toMatch(/attribute "channels"/)
    expect((await upsert({ custom_id: 'u', plan: ['pro'] })).status).toBe(400)
    expect((await upsert({ custom_id: 'u', plan: 'pro', channels: ['email', 'sms'] })).status).toBe(200)
    expect((await upsert({ custom_id: 'u', channels: 'push' })).status).toBe(200)
  })
})
