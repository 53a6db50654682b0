import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '../index'
import { KEY, api as request } from './helpers'

// What the simulator refuses as usercom-api.md documents it, in the 400 body shape the team reads
// (`{"errors": {"<field>": [...]}}`, every problem at once), and what it lists: §5.2's attribute shape,
// without a fixed attribute's choices.

let sim: RunningSimulator
beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
})
afterAll(async () => sim.close())
beforeEach(async () => sim.admin.reset())

describe('reference limits and refusals', () => {
  it('GET /attributes/ lists {id, name, name_std, value_type, content_type} only (§5.2): no choices', async () => {
    await sim.admin.seedAttributes({
      app: 'acme',
      attributes: [{ name: 'tier', value_type: 'fixed', choices: ['gold', 'silver'] }],
    })
    const listed = await request(sim, 'GET', 'attributes/')
    expect(listed.status).toBe(200)
    const [tier] = (listed.body as { results: Record<string, unknown>[] }).results
    expect(Object.keys(tier ?? {}).sort()).toEqual(['content_type', 'id', 'name', 'name_std', 'value_type'])
    expect(tier?.value_type).toBe('fixed')
  })

  it('one identify body: a value outside the choices, a 41-character name and a read-only field, each named', async () => {
    await sim.admin.seedAttributes({
      app: 'acme',
      attributes: [{ name: 'tier', value_type: 'fixed', choices: ['gold', 'silver'] }],
    })
    const refused = await request(sim, 'POST', 'users/update_or_create/', {
      custom_id: 'u-1',
      email: 'p@example.com',
      first_name: 'x'.repeat(41),
      tier: 'platinum',
      resolution: '1920x1080',
      city: 'c'.repeat(256),
    })
    expect(refused.status).toBe(400)
    const errors = (refused.body as { errors: Record<string, string[]> }).errors
    expect(Object.keys(errors).sort()).toEqual(['city', 'first_name', 'resolution', 'tier'])
    expect(errors.tier?.[0]).toMatch(/not a valid choice/)
    // Nothing of a refused body is applied.
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.users ?? []).toEqual([])
    // Without the refused fields it is accepted.
    const accepted = await request(sim, 'POST', 'users/update_or_create/', {
      custom_id: 'u-1',
      email: 'p@example.com',
      tier: 'gold',
    })
    expect(accepted.status).toBe(200)
  })

  it('a company address over 255 characters and an event name over 255 are refused, naming the field', async () => {
    const company = await request(sim, 'POST', 'companies/', { custom_id: 'c-1', address: 'a'.repeat(256) })
    expect(company.status).toBe(400)
    expect(Object.keys((company.body as { errors: object }).errors)).toEqual(['address'])
    const user = await request(sim, 'POST', 'users/update_or_create/', { custom_id: 'u-2' })
    const id = (user.body as { id: number }).id
    const event = await request(sim, 'POST', 'events/', { user_id: id, name: 'e'.repeat(256), data: {} })
    expect(event.status).toBe(400)
    expect(Object.keys((event.body as { errors: object }).errors)).toEqual(['name'])
  })

  it('failNext with `errors` answers a 400 naming those fields', async () => {
    await sim.admin.failNext({
      method: 'POST',
      route: '/events/',
      status: 400,
      errors: { data: ['Not allowed here.'] },
    })
    const event = await request(sim, 'POST', 'events/', { user_id: 1, name: 'x', data: {} })
    expect(event.status).toBe(400)
    expect(event.body).toEqual({ errors: { data: ['Not allowed here.'] } })
  })
})
