import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '../control'
import { KEY, api } from './helpers'

// Targeted failures for one user or company (`customId`): the others are served meanwhile.

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

const upsert = (customId: string, email: string) =>
  api(sim, 'POST', 'users/update_or_create/', { custom_id: customId, email })

describe('fail-next for one custom id', () => {
  it('fails only the requests about that custom id (body or path), for its duration', async () => {
    await sim.admin.failNext({
      method: 'POST',
      route: '/users/update_or_create/',
      customId: 'slow-user',
      status: 503,
      durationMs: 60_000,
    })
    expect((await upsert('slow-user', 'a@x.io')).status).toBe(503)
    expect((await upsert('slow-user', 'b@x.io')).status).toBe(503)
    expect((await upsert('other-user', 'c@x.io')).status).toBe(200)
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.users.map(u => u.custom_id)).toEqual(['other-user'])
    expect(state.pendingFailures).toEqual([
      expect.objectContaining({ route: '/users/update_or_create/', customId: 'slow-user', remaining: null }),
    ])
    await sim.admin.clearFailures()
    expect((await upsert('slow-user', 'd@x.io')).status).toBe(200)
  })

  it('matches the custom id of the path, and counts down like any rule', async () => {
    await upsert('u-path', 'p@x.io')
    await sim.admin.failNext({
      method: 'GET',
      route: '/users-by-id/:custom_id/',
      customId: 'u-path',
      count: 1,
    })
    expect((await api(sim, 'GET', 'users-by-id/u-path/')).status).toBe(503)
    expect((await api(sim, 'GET', 'users-by-id/u-path/')).status).toBe(200)
  })
})
