import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, type UsercomClient } from '../client'
import { UsercomError, UsercomRejectedError } from '../errors'

// `mergeUsers` against the simulator (usercom-api.md §2.8): the documented body, the answer, and the
// failure classes of a refused merge.

const KEY = 'merge-test-key-0123456789abcdef0123456789abcdef0123456789abcdef'
let sim: RunningSimulator
let client: UsercomClient

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.admin.reset()
  client = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 5000 })
})
afterEach(() => {
  client.close()
})

async function failure(promise: Promise<unknown>): Promise<UsercomError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UsercomError)
    return error as UsercomError
  }
  throw new Error('expected a failure, got a result')
}

describe('mergeUsers', () => {
  it('merges the children into the parent: the children are gone, their events move', async () => {
    const anon = await client.upsertUser({ custom_id: 'anon-1', first_name: 'Anon' })
    const known = await client.upsertUser({ custom_id: 'known-1', email: 'k@example.com' })
    await client.createEvent({ user_id: anon.id, name: 'viewed', data: {}, timestamp: 1_700_000_000 })

    expect(await client.mergeUsers(known.id, [anon.id])).toEqual({ success: true })

    expect(await client.getUser(anon.id)).toBeNull()
    expect(await client.getUserByCustomId('anon-1')).toBeNull()
    // The parent's values win; what it lacked comes from the merged user.
    expect(await client.getUser(known.id)).toMatchObject({
      custom_id: 'known-1',
      email: 'k@example.com',
      first_name: 'Anon',
    })
    const merges = await sim.admin.merges('acme')
    expect(merges.map(m => [m.parent.id, m.merged.map(u => u.id)])).toEqual([[known.id, [anon.id]]])
    const state = await sim.admin.state('acme')
    expect(state.apps.acme?.events.map(e => e.user_id)).toEqual([known.id])
    expect(await sim.admin.requestCount('POST /users/merge/', { app: 'acme', status: 200 })).toBe(1)
  })

  it('a merge User.com refuses (an unknown user) → rejected with the endpoint', async () => {
    const known = await client.upsertUser({ custom_id: 'known-2' })
    const error = await failure(client.mergeUsers(known.id, [987_654]))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(error).toMatchObject({ kind: 'rejected', status: 400, endpoint: 'POST /users/merge/' })
    expect(await client.getUser(known.id)).not.toBeNull()
  })

  it('refuses without a request a merge into itself, of nobody, or of a non-id', async () => {
    const known = await client.upsertUser({ custom_id: 'known-3' })
    for (const children of [[known.id], [], [0], [1.5]]) {
      const error = await failure(client.mergeUsers(known.id, children))
      expect(error).toMatchObject({ kind: 'rejected', endpoint: 'POST /users/merge/' })
    }
    expect(await sim.admin.requestCount('POST /users/merge/')).toBe(0)
  })
})
