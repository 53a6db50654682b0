import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { UsercomBadResponseError, MAX_ERROR_RESPONSE_CHARS } from '../errors'
import { expectNoSecret, failure, KEY, useClientSuite } from './helpers'

const suite = useClientSuite()
const { client } = suite

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
