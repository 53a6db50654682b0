import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, type UsercomClient } from '../client'
import { UsercomRejectedError } from '../errors'

// A 400 that names fields, read into the typed error over real HTTP: from the simulator (the shape
// usercom-api.md §1.2 leaves to the team), and from a server whose body is long and echoes the key.

const KEY = 'field-errors-test-key-0123456789abcdef0123456789abcdef0123456789ab'
let sim: RunningSimulator
let server: Server
let serverUrl = ''
const clients: UsercomClient[] = []

const client = (baseUrl: string): UsercomClient => {
  const created = createUsercomClient({ baseUrl, apiKey: KEY, timeoutMs: 5000 })
  clients.push(created)
  return created
}

async function rejection(promise: Promise<unknown>): Promise<UsercomRejectedError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UsercomRejectedError)
    return error as UsercomRejectedError
  }
  throw new Error('expected a rejection')
}

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
  server = createServer((_req, res) => {
    // Every field named with the key in its message, and a body far over the kept response length.
    const errors: Record<string, string[]> = { email: [`bad email for ${KEY}`] }
    for (let i = 0; i < 200; i += 1) errors[`attr_${i}`] = ['x'.repeat(100)]
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ errors }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/public/`
})
afterAll(async () => {
  for (const c of clients) c.close()
  await sim.close()
  await new Promise(resolve => server.close(resolve))
})

describe('a 400 that names fields', () => {
  it('from the simulator: every refused field with its message', async () => {
    const error = await rejection(
      client(sim.baseUrl).upsertUser({ custom_id: 'u-1', first_name: 'x'.repeat(41), nickname: 'Pete' }),
    )
    expect(error.status).toBe(400)
    expect(Object.keys(error.fieldErrors ?? {}).sort()).toEqual(['first_name', 'nickname'])
    expect(error.fieldErrors?.first_name?.[0]).toMatch(/40 characters/)
  })

  it('a long body is still read whole (not its truncated text), scrubbed of the key, and bounded', async () => {
    const error = await rejection(client(serverUrl).upsertUser({ custom_id: 'u-1' }))
    expect(error.fieldErrors?.email?.[0]).toBe('bad email for [Redacted]')
    expect(Object.keys(error.fieldErrors ?? {})).toHaveLength(100)
    expect(JSON.stringify(error.fieldErrors)).not.toContain(KEY)
    expect(error.response?.length).toBeLessThan(2100)
  })
})
