import { describe, expect, it } from '@jest/globals'
import { freePort } from '@ucd/testing'
import {
  UsercomForbiddenError,
  UsercomNetworkError,
  UsercomNotFoundError,
  UsercomRateLimitedError,
  UsercomRejectedError,
  UsercomServerError,
  UsercomTimeoutError,
  UsercomUnauthorizedError,
} from '../errors'
import { expectNoSecret, failure, KEY, useClientSuite } from './helpers'

const suite = useClientSuite()
const { responses, client } = suite

describe('failure classes', () => {
  it('429 → rate_limited with Retry-After in seconds', async () => {
    await suite.sim.admin.failNext({ method: 'POST', route: '/events/', status: 429, retryAfter: '3' })
    const error = await failure(client().createEvent({ user_id: 1, name: 'x', data: {}, timestamp: 1 }))
    expect(error).toBeInstanceOf(UsercomRateLimitedError)
    expect(error).toMatchObject({
      kind: 'rate_limited',
      code: 'UC_ERR_RATE_LIMITED',
      status: 429,
      endpoint: 'POST /events/',
    })
    expect((error as UsercomRateLimitedError).retryAfterMs).toBe(3000)
    expectNoSecret(error)
  })

  it('429 → rate_limited with Retry-After as an HTTP-date, and without one', async () => {
    await suite.sim.admin.setFaults({
      rateLimitRps: 0.001,
      rateLimitBurst: 1,
      retryAfterSeconds: 30,
      retryAfterFormat: 'http-date',
    })
    const c = client()
    await c.listAttributes()
    const error = (await failure(c.listAttributes())) as UsercomRateLimitedError
    expect(error.kind).toBe('rate_limited')
    expect(error.retryAfterMs).toBeGreaterThan(25_000)
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000)
    await suite.sim.admin.setFaults({ retryAfterFormat: 'none' })
    await c.listAttributes()
    const bare = (await failure(c.listAttributes())) as UsercomRateLimitedError
    expect(bare.kind).toBe('rate_limited')
    expect(bare.retryAfterMs).toBeUndefined()
  })

  it.each([500, 502, 503, 504, 408, 423])('%i → retryable', async status => {
    await suite.sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status })
    const error = await failure(client().upsertUser({ custom_id: 'u' }))
    expect(error).toBeInstanceOf(UsercomServerError)
    expect(error).toMatchObject({ kind: 'retryable', code: 'UC_ERR_SERVER', status })
    expect(error.response).toContain('Simulated failure')
    expectNoSecret(error)
  })

  it.each([501, 505, 413, 422, 409])('%i → rejected', async status => {
    await suite.sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status })
    const error = await failure(client().upsertUser({ custom_id: 'u' }))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(error).toMatchObject({ kind: 'rejected', code: 'UC_ERR_REJECTED', status })
  })

  it('400 → rejected, keeping the response body that names the problem', async () => {
    const error = await failure(client().upsertUser({ custom_id: 'u', plan: 'gold' }))
    expect(error).toBeInstanceOf(UsercomRejectedError)
    expect(error).toMatchObject({ kind: 'rejected', status: 400, endpoint: 'POST /users/update_or_create/' })
    expect(JSON.parse(error.response ?? '{}')).toEqual({
      errors: { plan: [expect.stringMatching(/does not exist/)] },
    })
    expectNoSecret(error)
  })

  it('404 on a write → rejected with its own code', async () => {
    const error = await failure(
      client().createEvent({ user_id: 4242, name: 'x', data: {}, timestamp: 1_700_000_000 }),
    )
    expect(error).toBeInstanceOf(UsercomNotFoundError)
    expect(error).toMatchObject({ kind: 'rejected', code: 'UC_ERR_NOT_FOUND', status: 404 })
    const member = await failure(client().addCompanyMember(777, { user_id: 1 }))
    expect(member.code).toBe('UC_ERR_NOT_FOUND')
  })

  it('403 → forbidden (revoked key), 401 → unauthorized (unknown key)', async () => {
    await suite.sim.admin.revoke(KEY)
    const forbidden = await failure(client().upsertUser({ custom_id: 'u' }))
    expect(forbidden).toBeInstanceOf(UsercomForbiddenError)
    expect(forbidden).toMatchObject({ kind: 'forbidden', code: 'UC_ERR_FORBIDDEN', status: 403 })
    expectNoSecret(forbidden)
    const unauthorized = await failure(client({ apiKey: 'not-a-known-key-at-all' }).getUserByCustomId('u'))
    expect(unauthorized).toBeInstanceOf(UsercomUnauthorizedError)
    expect(unauthorized).toMatchObject({ kind: 'unauthorized', code: 'UC_ERR_UNAUTHORIZED', status: 401 })
  })

  it('a timeout → retryable with its own code', async () => {
    await suite.sim.admin.setFaults({ latencyMs: 2000 })
    const error = await failure(client({ timeoutMs: 150 }).getUserByCustomId('u'))
    expect(error).toBeInstanceOf(UsercomTimeoutError)
    expect(error).toMatchObject({
      kind: 'retryable',
      code: 'UC_ERR_TIMEOUT',
      endpoint: 'GET /users-by-id/:custom_id/',
    })
    expect(error.status).toBeUndefined()
    expect(responses.at(-1)).toMatchObject({ endpoint: 'GET /users-by-id/:custom_id/', status: 'timeout' })
    expectNoSecret(error)
  })

  it('a dropped connection → retryable network error', async () => {
    await suite.sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', drop: true })
    const error = await failure(client().upsertUser({ custom_id: 'u' }))
    expect(error).toBeInstanceOf(UsercomNetworkError)
    expect(error).toMatchObject({ kind: 'retryable', code: 'UC_ERR_NETWORK' })
    expect((error as UsercomNetworkError).networkCode).toEqual(expect.any(String))
    expect(responses.at(-1)).toMatchObject({ status: 'network' })
    expectNoSecret(error)
  })

  it('a refused connection → retryable network error', async () => {
    const port = await freePort()
    const error = await failure(
      client({ baseUrl: `http://127.0.0.1:${port}/api/public/` }).upsertUser({ custom_id: 'u' }),
    )
    expect(error).toBeInstanceOf(UsercomNetworkError)
    expect((error as UsercomNetworkError).networkCode).toBe('ECONNREFUSED')
    expectNoSecret(error)
  })
})
