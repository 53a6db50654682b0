import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { freePort } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, type UsercomClient, type UsercomResponseInfo } from '../client'
import {
  UsercomBadResponseError,
  UsercomError,
  UsercomForbiddenError,
  UsercomNetworkError,
  UsercomNotFoundError,
  UsercomRateLimitedError,
  UsercomRejectedError,
  UsercomServerError,
  UsercomTimeoutError,
  UsercomUnauthorizedError,
  MAX_ERROR_RESPONSE_CHARS,
} from '../errors'

const KEY = 'client-test-key-0123456789abcdef0123456789abcdef0123456789abcdef'
let sim: RunningSimulator
const clients: UsercomClient[] = []
const responses: UsercomResponseInfo[] = []

const client = (options: Partial<Parameters<typeof createUsercomClient>[0]> = {}): UsercomClient => {
  const created = createUsercomClient({
    baseUrl: sim.baseUrl,
    apiKey: KEY,
    timeoutMs: 5000,
    maxSockets: 8,
    onResponse: info => responses.push(info),
    ...options,
  })
  clients.push(created)
  return created
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<UsercomError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UsercomError)
    return error as UsercomError
  }
  throw new Error('expected a failure, got a result')
}

/** Nothing of the key may show in any form of the error. */
function expectNoSecret(error: unknown): void {
  const forms = [
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
    String((error as Error).stack),
    String((error as Error).message),
    JSON.stringify(Object.entries(error as object)),
  ]
  for (const form of forms) {
    expect(form).not.toContain(KEY)
    expect(form).not.toMatch(/Token [A-Za-z0-9]/)
  }
  expect(Object.keys(error as object)).not.toEqual(expect.arrayContaining(['config']))
  expect(Object.keys(error as object)).not.toEqual(expect.arrayContaining(['request']))
}

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.admin.reset()
  responses.length = 0
})
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

describe('methods', () => {
  it('upserts users and reads them by id and by custom id (404 → null)', async () => {
    const c = client()
    const created = await c.upsertUser({ custom_id: 'u-1', email: 'ada@example.com', first_name: 'Ada' })
    expect(created).toEqual({ created: true, id: expect.any(Number) })
    expect(await c.upsertUser({ custom_id: 'u-1', last_name: 'L' })).toEqual({
      created: false,
      id: created.id,
    })
    const user = await c.getUser(created.id)
    expect(user).toMatchObject({ id: created.id, custom_id: 'u-1', email: 'ada@example.com', last_name: 'L' })
    expect(user?.user_key).toMatch(/^[a-z0-9]{12}$/)
    expect(await c.getUserByCustomId('u-1')).toMatchObject({ id: created.id })
    expect(await c.getUser(99_999)).toBeNull()
    expect(await c.getUserByCustomId('nobody')).toBeNull()
  })

  it('URL-encodes custom ids in paths; ids that could change the path are refused before any request', async () => {
    const c = client()
    for (const customId of ['x+y@example.com', 'with space', "it's(ok)*", 'zażółć']) {
      const { id } = await c.upsertUser({ custom_id: customId })
      expect(await c.getUserByCustomId(customId)).toMatchObject({ id, custom_id: customId })
      await c.createCompany({ custom_id: customId })
      expect(await c.getCompanyByCustomId(customId)).toMatchObject({ custom_id: customId })
      expect(await c.updateCompanyByCustomId(customId, { name: 'N' })).toMatchObject({
        custom_id: customId,
        name: 'N',
      })
    }
    // A proxy or server may decode `/`, `?`, `#`, `%` even when encoded (issue 18): never in a path.
    const requestsBefore = JSON.stringify(await sim.admin.requests())
    for (const customId of ['a/b', 'hash#tag?q=1', '100%']) {
      await expect(c.getUserByCustomId(customId)).rejects.toMatchObject({ code: 'UC_ERR_INVALID_PATH' })
      await expect(c.getCompanyByCustomId(customId)).rejects.toMatchObject({ code: 'UC_ERR_INVALID_PATH' })
    }
    expect(JSON.stringify(await sim.admin.requests())).toBe(requestsBefore)
  })

  it('works with a base URL without the trailing slash', async () => {
    const c = client({ baseUrl: sim.baseUrl.replace(/\/$/, '') })
    expect((await c.upsertUser({ custom_id: 'u' })).created).toBe(true)
  })

  it('lists attributes across pages by following next, and creates them', async () => {
    await sim.admin.seedAttributes({
      app: 'acme',
      attributes: Array.from({ length: 230 }, (_, i) => ({ name: `a${i}` })),
    })
    const c = client()
    const created = await c.createAttribute({
      name: 'Favorite Color',
      content_type: 'clientuser',
      value_type: 'string',
    })
    expect(created).toMatchObject({
      name_std: 'favorite_color',
      value_type: 'string',
      content_type: 'clientuser',
    })
    const all = await c.listAttributes()
    expect(all).toHaveLength(231)
    expect(all.map(a => a.name_std)).toContain('favorite_color')
    expect(await sim.admin.requestCount('GET /attributes/', { app: 'acme', status: 200 })).toBe(3)
  })

  it('creates events and site views', async () => {
    const c = client()
    const { id } = await c.upsertUser({ custom_id: 'u' })
    expect(
      await c.createEvent({ user_id: id, name: 'Paid', data: { amount: 5 }, timestamp: 1_700_000_000 }),
    ).toEqual({
      id: expect.any(Number),
      created: true,
    })
    const user = await c.getUser(id)
    const view = await c.createSiteView({
      client_user: user?.user_key ?? '',
      page_domain: 'https://example.com',
      page_path: '/docs?x=1',
      timestamp: '2024-01-01T00:00:00.000Z',
      page_title: 'Docs',
    })
    expect(view).toEqual({ id: expect.any(Number) })
    expect((await c.getUser(id))?.page_views).toBe(1)
  })

  it('creates, reads and updates companies and adds members idempotently', async () => {
    const c = client()
    const { id: userId } = await c.upsertUser({ custom_id: 'u' })
    const company = await c.createCompany({ custom_id: 'g-1', name: 'Acme' })
    expect(company).toMatchObject({ id: expect.any(Number), custom_id: 'g-1', name: 'Acme' })
    expect(await c.getCompanyByCustomId('g-1')).toMatchObject({ id: company.id })
    expect(await c.getCompanyByCustomId('g-2')).toBeNull()
    expect(await c.updateCompanyByCustomId('g-1', { city: 'Kraków' })).toMatchObject({
      id: company.id,
      city: 'Kraków',
    })
    expect(await c.updateCompanyByCustomId('g-2', { city: 'x' })).toBeNull()
    await c.addCompanyMember(company.id, { user_id: userId, user_custom_id: 'u' })
    await c.addCompanyMember(company.id, { user_id: userId, user_custom_id: 'u' })
    expect((await c.getCompanyByCustomId('g-1'))?.employees).toEqual([userId])
  })

  it('reports every response to onResponse and awaits the rate limiter before every request', async () => {
    let acquired = 0
    const c = client({ rateLimiter: { acquire: async () => void (acquired += 1) } })
    await c.upsertUser({ custom_id: 'u' })
    await c.getUserByCustomId('none')
    await c.listAttributes()
    expect(acquired).toBe(3)
    expect(responses.map(r => [r.endpoint, r.status])).toEqual([
      ['POST /users/update_or_create/', 200],
      ['GET /users-by-id/:custom_id/', 404],
      ['GET /attributes/', 200],
    ])
    expect(responses.every(r => typeof r.durationMs === 'number' && r.durationMs >= 0)).toBe(true)
  })
})

describe('failure classes', () => {
  it('429 → rate_limited with Retry-After in seconds', async () => {
    await sim.admin.failNext({ method: 'POST', route: '/events/', status: 429, retryAfter: '3' })
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
    await sim.admin.setFaults({
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
    await sim.admin.setFaults({ retryAfterFormat: 'none' })
    await c.listAttributes()
    const bare = (await failure(c.listAttributes())) as UsercomRateLimitedError
    expect(bare.kind).toBe('rate_limited')
    expect(bare.retryAfterMs).toBeUndefined()
  })

  it.each([500, 502, 503, 504, 408, 423])('%i → retryable', async status => {
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status })
    const error = await failure(client().upsertUser({ custom_id: 'u' }))
    expect(error).toBeInstanceOf(UsercomServerError)
    expect(error).toMatchObject({ kind: 'retryable', code: 'UC_ERR_SERVER', status })
    expect(error.response).toContain('Simulated failure')
    expectNoSecret(error)
  })

  it.each([501, 505, 413, 422, 409])('%i → rejected', async status => {
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', status })
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
    await sim.admin.revoke(KEY)
    const forbidden = await failure(client().upsertUser({ custom_id: 'u' }))
    expect(forbidden).toBeInstanceOf(UsercomForbiddenError)
    expect(forbidden).toMatchObject({ kind: 'forbidden', code: 'UC_ERR_FORBIDDEN', status: 403 })
    expectNoSecret(forbidden)
    const unauthorized = await failure(client({ apiKey: 'not-a-known-key-at-all' }).getUserByCustomId('u'))
    expect(unauthorized).toBeInstanceOf(UsercomUnauthorizedError)
    expect(unauthorized).toMatchObject({ kind: 'unauthorized', code: 'UC_ERR_UNAUTHORIZED', status: 401 })
  })

  it('a timeout → retryable with its own code', async () => {
    await sim.admin.setFaults({ latencyMs: 2000 })
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
    await sim.admin.failNext({ method: 'POST', route: '/users/update_or_create/', drop: true })
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

describe('against a hand-written server', () => {
  let server: Server
  let base: string
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end()
  let connections = 0
  let inFlight = 0
  let maxInFlight = 0

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res))
    server.on('connection', () => (connections += 1))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/public/`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })

  it('removes the API key from kept response bodies', async () => {
    handler = (req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ errors: { auth: [`bad header ${String(req.headers.authorization)}`], key: KEY } }),
      )
    }
    const error = await failure(client({ baseUrl: base }).upsertUser({ custom_id: 'u' }))
    expect(error.kind).toBe('rejected')
    expect(error.response).toContain('bad header')
    expectNoSecret(error)
  })

  it('truncates kept response bodies', async () => {
    handler = (_req, res) => {
      res.writeHead(422)
      res.end('x'.repeat(10_000))
    }
    const error = await failure(client({ baseUrl: base }).upsertUser({ custom_id: 'u' }))
    expect(error.response?.length).toBeLessThanOrEqual(MAX_ERROR_RESPONSE_CHARS + 20)
    expect(error.response?.startsWith('x'.repeat(MAX_ERROR_RESPONSE_CHARS))).toBe(true)
  })

  it('a 2xx that is not the documented JSON → retryable bad response', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>maintenance</html>')
    }
    const error = await failure(client({ baseUrl: base }).upsertUser({ custom_id: 'u' }))
    expect(error).toBeInstanceOf(UsercomBadResponseError)
    expect(error).toMatchObject({ kind: 'retryable', code: 'UC_ERR_BAD_RESPONSE', status: 200 })
  })

  it('never follows a next link to another host', async () => {
    let hits = 0
    handler = (_req, res) => {
      hits += 1
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ count: 2, next: 'http://169.254.169.254/attributes/?page=2', results: [] }))
    }
    const error = await failure(client({ baseUrl: base }).listAttributes())
    expect(error.code).toBe('UC_ERR_BAD_RESPONSE')
    expect(hits).toBe(1)
  })

  it('sends the documented headers, JSON and keeps to maxSockets with keep-alive', async () => {
    const seen: IncomingMessage['headers'][] = []
    handler = (req, res) => {
      seen.push(req.headers)
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      setTimeout(() => {
        inFlight -= 1
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ created: true, id: 1 }))
      }, 20)
    }
    connections = 0
    const c = client({ baseUrl: base, maxSockets: 2 })
    await Promise.all(Array.from({ length: 12 }, (_, i) => c.upsertUser({ custom_id: `u${i}` })))
    expect(maxInFlight).toBeLessThanOrEqual(2)
    expect(connections).toBeLessThanOrEqual(2)
    expect(seen[0]).toMatchObject({
      authorization: `Token ${KEY}`,
      accept: '*/*; version=2',
      'content-type': 'application/json',
      connection: 'keep-alive',
    })
  })
})
