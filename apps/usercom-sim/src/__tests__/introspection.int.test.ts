import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { SimEventReportSchema } from '../schema'
import { startSimulator, type RunningSimulator } from '../control'
import { HEADERS, KEY, api } from './helpers'

let sim: RunningSimulator

beforeAll(async () => {
  sim = await startSimulator({
    keys: [
      { key: KEY, app: 'acme', revoked: false },
      { key: 'other-key', app: 'globex', revoked: false },
    ],
  })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.admin.reset()
})

const upsert = (body: Record<string, unknown>) => api(sim, 'POST', 'users/update_or_create/', body)
const track = (userId: number, name: string, data: unknown, timestamp = 1_700_000_000) =>
  api(sim, 'POST', 'events/', { user_id: userId, name, data, timestamp })

describe('GET /__sim/events', () => {
  it('lists the occurrences of an app or a user, and the duplicates among them', async () => {
    const { body: a } = await upsert({ custom_id: 'a' })
    const { body: b } = await upsert({ custom_id: 'b' })
    await track(a.id, 'Paid', { x: 1, y: [1, { z: 2 }] })
    await track(a.id, 'Paid', { y: [1, { z: 2 }], x: 1 }) // the same data, keys in another order
    await track(a.id, 'Paid', { x: 2 }) // other data
    await track(a.id, 'Paid', { x: 1, y: [1, { z: 2 }] }, 1_700_000_001) // another timestamp
    await track(b.id, 'Paid', { x: 1, y: [1, { z: 2 }] }) // another user

    const all = SimEventReportSchema.parse(await sim.admin.events('acme'))
    expect(all.count).toBe(5)
    expect(all.events.map(e => e.custom_id)).toEqual(['a', 'a', 'a', 'a', 'b'])
    expect(all.duplicates).toEqual([
      {
        user_id: a.id,
        custom_id: 'a',
        name: 'Paid',
        timestamp: 1_700_000_000,
        data: { x: 1, y: [1, { z: 2 }] },
        count: 2,
        ids: [all.events[0]?.id, all.events[1]?.id],
      },
    ])
    const ofB = await sim.admin.events('acme', 'b')
    expect(ofB).toMatchObject({ app: 'acme', count: 1, duplicates: [] })
    const byId = await fetch(`${sim.origin}/__sim/events?app=acme&user_id=${b.id}`)
    expect(((await byId.json()) as { count: number }).count).toBe(1)
    expect((await sim.admin.events('globex')).count).toBe(0)
  })

  it('answers 404 for an unknown app or user', async () => {
    expect((await fetch(`${sim.origin}/__sim/events?app=nope`)).status).toBe(404)
    expect((await fetch(`${sim.origin}/__sim/events`)).status).toBe(404)
    await expect(sim.admin.events('acme', 'nobody')).rejects.toThrow(/404/)
  })
})

describe('request counts of unknown routes', () => {
  it('counts them by raw method and path, in the app of a known key', async () => {
    await fetch(`${sim.baseUrl}`, { method: 'PUT', headers: HEADERS, body: '{}' })
    await fetch(`${sim.baseUrl}companies/../`, { method: 'GET', headers: HEADERS })
    await api(sim, 'DELETE', 'users/1/', undefined, { ...HEADERS, authorization: 'Token other-key' })
    await fetch(`${sim.baseUrl}users/?q=1`, {
      method: 'GET',
      headers: { ...HEADERS, authorization: 'Token nope' },
    })
    const acme = await sim.admin.requests('acme')
    expect(acme).toEqual({ 'PUT /api/public/': { '404': 1 }, 'GET /api/public/': { '404': 1 } })
    expect(await sim.admin.requests('globex')).toEqual({ 'DELETE /api/public/users/1/': { '404': 1 } })
    const total = await sim.admin.requests()
    expect(Object.keys(total).sort()).toEqual(
      [
        'DELETE /api/public/users/1/',
        'GET /api/public/',
        'GET /api/public/users/',
        'PUT /api/public/',
      ].sort(),
    )
    expect(await sim.admin.requestCount('PUT /api/public/')).toBe(1)
  })
})

describe('state', () => {
  it('shows events, page views, merges and their totals', async () => {
    const { body: a } = await upsert({ custom_id: 'a' })
    const { body: b } = await upsert({ custom_id: 'b' })
    await track(b.id, 'Paid', {})
    const { body: view } = await api(sim, 'GET', `users/${b.id}/`)
    await api(sim, 'POST', 'site-views/', {
      client_user: view.user_key,
      page_domain: 'https://example.com',
      page_path: '/',
      timestamp: 1_700_000_000,
    })
    await api(sim, 'POST', 'users/merge/', { parent: a.id, users_list: [b.id] })
    const app = (await sim.admin.state('acme')).apps.acme
    expect(app?.totals).toEqual({ users: 1, companies: 0, events: 1, pageViews: 1, attributes: 0, merges: 1 })
    expect(app?.events.map(e => e.user_id)).toEqual([a.id])
    expect(app?.pageViews.map(v => v.user_id)).toEqual([a.id])
    expect(app?.merges.map(m => m.merged.map(u => u.custom_id))).toEqual([['b']])
    expect((await sim.admin.summary()).apps.acme?.totals.merges).toBe(1)
  })
})
