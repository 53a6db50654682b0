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
const merge = (body: unknown) => api(sim, 'POST', 'users/merge/', body)

/** Three users: an anonymous one with history (lowest id), a second one, and the parent (highest id). */
async function threeUsers() {
  await sim.admin.seedAttributes({
    app: 'acme',
    attributes: [{ name: 'plan' }, { name: 'seats', value_type: 'integer' }],
  })
  const { body: anon } = await upsert({
    custom_id: 'anon-1',
    email: 'anon@example.com',
    first_name: 'Anon',
    last_name: 'Alpha',
    gender: 2,
    tags: ['t1'],
    plan: 'free',
  })
  const { body: second } = await upsert({ custom_id: 'second', last_name: 'Two', city: 'Berlin', seats: 3 })
  const { body: parent } = await upsert({
    custom_id: 'known',
    email: 'p@example.com',
    first_name: 'Pat',
    tags: ['t2'],
    seats: 10,
  })
  const { body: anonView } = await api(sim, 'GET', `users/${anon.id}/`)
  for (const path of ['/a', '/b']) {
    await api(sim, 'POST', 'site-views/', {
      client_user: anonView.user_key,
      page_domain: 'https://example.com',
      page_path: path,
      timestamp: '2024-05-01T10:00:00Z',
    })
  }
  await api(sim, 'POST', 'events/', {
    user_id: anon.id,
    name: 'Viewed',
    data: { a: 1 },
    timestamp: 1_700_000_000,
  })
  const { body: company } = await api(sim, 'POST', 'companies/', { custom_id: 'co', name: 'Co' })
  await api(sim, 'POST', `companies/${company.id}/add_member/`, { user_id: second.id })
  return { anon: anon.id as number, second: second.id as number, parent: parent.id as number, company }
}

describe('POST /users/merge/', () => {
  it('keeps the parent’s values, fills the rest from the lowest id, and moves the history', async () => {
    const { anon, second, parent, company } = await threeUsers()
    const response = await merge({ parent, users_list: [second, anon] })
    expect(response.status).toBe(200)
    expect(response.body).toEqual({ success: true })

    const { body: user } = await api(sim, 'GET', `users/${parent}/`)
    expect(user).toMatchObject({
      id: parent,
      custom_id: 'known',
      email: 'p@example.com',
      first_name: 'Pat',
      last_name: 'Alpha',
      city: 'Berlin',
      gender: 'male',
      page_views: 2,
      last_seen: '2024-05-01T10:00:00.000Z',
      tags: [{ name: 't2' }, { name: 't1' }],
      companies: [{ id: company.id, name: 'Co', member_since: expect.any(String) }],
    })
    const attributes = Object.fromEntries(
      (user.attributes as { name_std: string; value: unknown }[]).map(a => [a.name_std, a.value]),
    )
    expect(attributes).toEqual({ seats: 10, plan: 'free' })

    const listing = await api(sim, 'GET', 'users-by-id/known/events/')
    expect(listing.body.results).toEqual([
      { id: expect.any(Number), name: 'Viewed', data: { a: 1 }, timestamp: 1_700_000_000 },
    ])
    const state = (await sim.admin.state('acme')).apps.acme
    expect(state?.users.map(u => u.id)).toEqual([parent])
    expect(state?.pageViews.every(v => v.user_id === parent && v.client_user === user.user_key)).toBe(true)
    expect(state?.companies[0]?.members).toEqual([parent])
    expect(state?.merges).toEqual([
      {
        parent: { id: parent, custom_id: 'known' },
        merged: [
          { id: anon, custom_id: 'anon-1' },
          { id: second, custom_id: 'second' },
        ],
        at: expect.any(String),
      },
    ])
    expect(state?.totals.merges).toBe(1)
    expect(await sim.admin.merges('acme')).toHaveLength(1)
    expect(await sim.admin.requestCount('POST /users/merge/', { app: 'acme', status: 200 })).toBe(1)
  })

  it('removes the merged users: 404 by id and by custom id, and their custom ids are free', async () => {
    const { anon, parent } = await threeUsers()
    await merge({ parent, users_list: [anon] })
    expect((await api(sim, 'GET', `users/${anon}/`)).status).toBe(404)
    expect((await api(sim, 'GET', 'users-by-id/anon-1/')).status).toBe(404)
    expect((await api(sim, 'GET', 'users-by-id/anon-1/events/')).status).toBe(404)
    const again = await upsert({ custom_id: 'anon-1' })
    expect(again.body).toEqual({ created: true, id: expect.any(Number) })
    expect(again.body.id).not.toBe(anon)
    // Merging a user that is gone fails.
    const twice = await merge({ parent, users_list: [anon] })
    expect(twice.status).toBe(400)
    expect(twice.body.errors.users_list[0]).toMatch(new RegExp(`"${anon}"`))
  })

  it('refuses a bad body, naming every problem, and changes nothing', async () => {
    const { anon, second, parent } = await threeUsers()
    const cases: [unknown, string[]][] = [
      [{ parent: 999, users_list: [anon] }, ['parent']],
      [{ parent, users_list: [anon, 998, 997] }, ['users_list']],
      [{ parent, users_list: [parent, anon] }, ['users_list']],
      [{ parent, users_list: [anon, anon] }, ['users_list']],
      [{ parent, users_list: [] }, ['users_list']],
      [{ parent, user_list: [anon] }, ['user_list', 'users_list']],
      [{ parent: 'known', users_list: ['anon-1'], extra: 1 }, ['extra', 'parent', 'users_list']],
    ]
    for (const [body, fields] of cases) {
      const response = await merge(body)
      expect(response.status).toBe(400)
      expect(Object.keys(response.body.errors).sort()).toEqual(fields)
    }
    const missing = await merge({ parent, users_list: [anon, 998] })
    expect(missing.body.errors.users_list).toEqual(['Invalid pk "998" - object does not exist.'])
    const state = (await sim.admin.state('acme')).apps.acme
    expect(state?.users.map(u => u.id).sort()).toEqual([anon, second, parent].sort())
    expect(state?.merges).toEqual([])
  })
})
