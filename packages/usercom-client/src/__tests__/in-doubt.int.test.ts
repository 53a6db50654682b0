import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { freePort } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, type UsercomClient } from '../client'
import { isInDoubt, UsercomError, UsercomNetworkError, UsercomServerError } from '../errors'
import type { UserEventsPage } from '../schemas'

// Which failures leave a write in doubt (it may have taken effect), and the user's event listing
// (`GET /users-by-id/:custom_id/events/`, cursor pages followed verbatim), against the simulator.

const KEY = 'in-doubt-test-key-0123456789abcdef0123456789abcdef0123456789abcd'
let sim: RunningSimulator
let client: UsercomClient

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme' }], eventPageSize: 3 })
  client = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 1000, maxSockets: 4 })
})
beforeEach(async () => {
  await sim.admin.reset()
})
afterAll(async () => {
  client.close()
  await sim.close()
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

const event = (userId: number, n: number) => ({
  user_id: userId,
  name: 'Order Completed',
  data: { n },
  timestamp: 1_790_000_000 + n,
})

describe('in-doubt failures', () => {
  it('a 504 after the write was applied is in doubt, and the occurrence exists', async () => {
    const { id } = await client.upsertUser({ custom_id: 'u1' })
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 504, afterApply: true })
    const error = await failure(client.createEvent(event(id, 1)))
    expect(error).toBeInstanceOf(UsercomServerError)
    expect(error.inDoubt).toBe(true)
    expect(isInDoubt(error)).toBe(true)
    expect((await sim.admin.events('acme', 'u1')).events).toHaveLength(1)
  })

  it('a 503 and a dropped connection are in doubt; a 429, a 400, a 408 and a refused connection are not', async () => {
    const { id } = await client.upsertUser({ custom_id: 'u2' })
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 503 })
    expect((await failure(client.createEvent(event(id, 1)))).inDoubt).toBe(true)
    await sim.admin.failNext({ method: 'POST', route: '/events/', drop: true })
    const dropped = await failure(client.createEvent(event(id, 2)))
    expect(dropped).toBeInstanceOf(UsercomNetworkError)
    expect(dropped.inDoubt).toBe(true)
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 429 })
    expect((await failure(client.createEvent(event(id, 3)))).inDoubt).toBe(false)
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 408 })
    expect((await failure(client.createEvent(event(id, 4)))).inDoubt).toBe(false)
    const rejected = await failure(client.createEvent({ ...event(id, 5), timestamp: 99_999_999_999_999 }))
    expect(rejected.status).toBe(400)
    expect(isInDoubt(rejected)).toBe(false)

    const nowhere = createUsercomClient({
      baseUrl: `http://127.0.0.1:${await freePort()}/api/public/`,
      apiKey: KEY,
      timeoutMs: 1000,
    })
    const refused = await failure(nowhere.createEvent(event(id, 6)))
    nowhere.close()
    expect(refused).toBeInstanceOf(UsercomNetworkError)
    expect((refused as UsercomNetworkError).networkCode).toBe('ECONNREFUSED')
    expect(refused.inDoubt).toBe(false)
  })

  it('a timeout is in doubt', async () => {
    const { id } = await client.upsertUser({ custom_id: 'u3' })
    await sim.admin.failNext({ method: 'POST', route: '/events/', delayMs: 3000 })
    expect((await failure(client.createEvent(event(id, 1)))).inDoubt).toBe(true)
  })

  it('isInDoubt is false for anything that is not a User.com error', () => {
    expect(isInDoubt(new Error('redis down'))).toBe(false)
    expect(isInDoubt({ inDoubt: true })).toBe(false)
  })
})

describe('listUserEvents', () => {
  it('follows the cursor pages verbatim: every occurrence once, newest first', async () => {
    const { id } = await client.upsertUser({ custom_id: 'list/me+1' })
    for (let n = 0; n < 7; n++) await client.createEvent(event(id, n))
    const pages: UserEventsPage[] = []
    let page = await client.listUserEvents('list/me+1')
    while (page !== null) {
      pages.push(page)
      page = page.next === null ? null : await client.listUserEvents('list/me+1', { page: page.next })
    }
    expect(pages.map(p => p.results.length)).toEqual([3, 3, 1])
    expect(pages[0]?.count).toBe(7)
    const ns = pages.flatMap(p => p.results.map(r => (r.data as { n: number }).n))
    expect(ns).toEqual([6, 5, 4, 3, 2, 1, 0])
    expect(pages[0]?.results[0]).toMatchObject({ name: 'Order Completed', timestamp: 1_790_000_006 })
    const counted = await sim.admin.requestCount('GET /users-by-id/:custom_id/events/', { app: 'acme' })
    expect(counted).toBe(3)
  })

  it('null for an unknown user; a page link to another host is refused', async () => {
    expect(await client.listUserEvents('nobody')).toBeNull()
    const error = await failure(client.listUserEvents('nobody', { page: 'http://evil.example/x/' }))
    expect(error.code).toBe('UC_ERR_BAD_RESPONSE')
  })
})
