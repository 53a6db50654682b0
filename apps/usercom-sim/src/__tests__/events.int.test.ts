import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '../control'
import { HEADERS, KEY, api } from './helpers'

let sim: RunningSimulator

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }], eventPageSize: 3 })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.admin.reset()
})

const upsert = (body: Record<string, unknown>) => api(sim, 'POST', 'users/update_or_create/', body)
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

describe('events by custom id and the events listing', () => {
  const track = (userId: number, name: string, timestamp: number, data: Record<string, unknown> = {}) =>
    api(sim, 'POST', 'events/', { user_id: userId, name, data, timestamp })

  /** Follows `next` verbatim from `path`, returning every page body. */
  const pages = async (path: string): Promise<any[]> => {
    const out: any[] = []
    let next: string | null = sim.baseUrl + path
    while (next) {
      const response = await fetch(next, { headers: HEADERS })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { next: string | null }
      out.push(body)
      next = body.next
    }
    return out
  }

  it('creates an occurrence through POST /users-by-id/:custom_id/events/; 404 for an unknown user', async () => {
    const { body: user } = await upsert({ custom_id: 'a/b' })
    const created = await api(sim, 'POST', `users-by-id/${encodeURIComponent('a/b')}/events/`, {
      name: 'Paid',
      data: { amount: 3 },
      timestamp: 1_700_000_000,
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({ id: expect.any(Number), created: true })
    const bad = await api(sim, 'POST', 'users-by-id/a%2Fb/events/', {
      user_id: user.id,
      name: '',
      timestamp: 'now',
    })
    expect(Object.keys(bad.body.errors).sort()).toEqual(['name', 'timestamp', 'user_id'])
    expect((await api(sim, 'POST', 'users-by-id/nobody/events/', { name: 'x' })).status).toBe(404)
    expect((await sim.admin.state('acme')).apps.acme?.events).toEqual([
      { id: created.body.id, user_id: user.id, name: 'Paid', data: { amount: 3 }, timestamp: 1_700_000_000 },
    ])
  })

  it('lists a user’s occurrences newest first, paginated by cursor, next a full URL', async () => {
    const { body: user } = await upsert({ custom_id: 'x+y@example.com' })
    const { body: other } = await upsert({ custom_id: 'other' })
    const stamps = [
      1_700_000_500, 1_700_000_100, 1_700_000_300, 1_700_000_300, 1_700_000_200, 1_700_000_400, 1_700_000_000,
    ]
    for (const [i, ts] of stamps.entries()) await track(user.id, `e${i}`, ts, { i })
    await track(other.id, 'not mine', 1_700_000_900)

    const path = `users-by-id/${encodeURIComponent('x+y@example.com')}/events/`
    const all = await pages(path)
    expect(all.map(p => p.results.length)).toEqual([3, 3, 1])
    expect(all.every(p => p.count === 7)).toBe(true)
    expect(all[0].previous).toBeNull()
    expect(all[0].next.startsWith(`${sim.baseUrl}${path}?cursor=`)).toBe(true)
    const results = all.flatMap(p => p.results)
    expect(results.map((e: { timestamp: number }) => e.timestamp)).toEqual([...stamps].sort((a, b) => b - a))
    // Equal timestamps: the later occurrence (larger id) first.
    expect(
      results
        .filter((e: { timestamp: number }) => e.timestamp === 1_700_000_300)
        .map((e: { name: string }) => e.name),
    ).toEqual(['e3', 'e2'])
    expect(results[0]).toEqual({
      id: expect.any(Number),
      name: 'e0',
      data: { i: 0 },
      timestamp: 1_700_000_500,
    })

    // previous leads back to the page before.
    const second = await fetch(all[1].previous, { headers: HEADERS })
    expect(second.status).toBe(200)
    const back = (await second.json()) as { results: { id: number }[] }
    expect(back.results.map(e => e.id)).toEqual(all[0].results.map((e: { id: number }) => e.id))
  })

  it('lists by internal id too; 404 for an unknown user or a forged cursor', async () => {
    const { body: user } = await upsert({ custom_id: 'u' })
    await track(user.id, 'Paid', 1_700_000_000)
    const byId = await api(sim, 'GET', `users/${user.id}/events/`)
    expect(byId.body).toMatchObject({ count: 1, next: null, previous: null, results: [{ name: 'Paid' }] })
    expect((await api(sim, 'GET', 'users-by-id/nobody/events/')).status).toBe(404)
    expect((await api(sim, 'GET', 'users/999/events/')).status).toBe(404)
    expect((await api(sim, 'GET', 'users-by-id/u/events/?cursor=bm9wZQ')).status).toBe(404)
    expect((await api(sim, 'GET', 'users-by-id/u/events/')).body.count).toBe(1)
  })
})
