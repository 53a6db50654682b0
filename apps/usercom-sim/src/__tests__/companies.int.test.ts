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

describe('company fields as the reference lists them', () => {
  it('names every problem at once: read-only fields, unknown attributes, limits and a duplicate custom_id', async () => {
    await api(sim, 'POST', 'companies/', { custom_id: 'taken' })
    const response = await api(sim, 'POST', 'companies/', {
      custom_id: 'taken',
      name: 'n'.repeat(256),
      address: 'a'.repeat(256),
      employees: [1],
      approx_employees: 5,
      user_custom_id: 'u',
      category: 'x',
      created_at: '2024-01-01T00:00:00Z',
      industry: 'Rockets',
    })
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors).sort()).toEqual(
      [
        'address',
        'approx_employees',
        'category',
        'created_at',
        'custom_id',
        'employees',
        'industry',
        'name',
        'user_custom_id',
      ].sort(),
    )
    expect(response.body.errors.employees[0]).toMatch(/read-only/)
    expect(response.body.errors.custom_id[0]).toMatch(/already exists/)
    const fits = await api(sim, 'POST', 'companies/', {
      custom_id: 'c',
      name: 'n'.repeat(255),
      address: 'a'.repeat(255),
    })
    expect(fits.status).toBe(201)
  })

  it('adds tags, takes assigned_to, and null clears a field', async () => {
    const created = await api(sim, 'POST', 'companies/', {
      custom_id: 'c',
      name: 'Acme',
      phone_numbers: ['+48123456789'],
      tags: ['b2b'],
      assigned_to: 4,
    })
    expect(created.body).toMatchObject({ tags: [{ name: 'b2b' }], assigned_to: 4 })
    const updated = await api(sim, 'PUT', 'companies-by-id/c/', {
      tags: ['saas'],
      name: null,
      phone_numbers: null,
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({
      name: null,
      phone_numbers: [],
      tags: [{ name: 'b2b' }, { name: 'saas' }],
    })
    const renamed = await api(sim, 'PUT', 'companies-by-id/c/', { custom_id: 'c2' })
    expect(renamed.body.custom_id).toBe('c2')
    expect((await api(sim, 'GET', 'companies-by-id/c/')).status).toBe(404)
  })
})
