import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { parseResponse, runOpenLoad } from '../open-load'
import { runOpenLoadInProcess } from '../open-load-process'
import { BodyFactory } from '../workload'

describe('parseResponse', () => {
  it('finds a whole response by its Content-Length, and waits for the rest of one', () => {
    const whole = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1')
    expect(parseResponse(whole)).toEqual({ status: 200, length: whole.length - 'HTTP/1.1'.length })
    expect(parseResponse(Buffer.from('HTTP/1.1 503 x\r\ncontent-length: 10\r\n\r\nshort'))).toBeUndefined()
    expect(parseResponse(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'))).toEqual({ status: 204, length: 27 })
    expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'))).toBeUndefined()
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'
    expect(parseResponse(Buffer.from(chunked))).toEqual({ status: 200, length: chunked.length })
    expect(parseResponse(Buffer.from(chunked.slice(0, -2)))).toBeUndefined()
  })
})

describe('runOpenLoad', () => {
  let server: Server
  let url: string
  let bodies = 0
  /** messageIds of the JSON bodies received (the tracks of runOpenLoadInProcess). */
  const messageIds: string[] = []
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        if (body === 'x'.repeat(10)) bodies += 1
        else if (body.startsWith('{')) messageIds.push((JSON.parse(body) as { messageId: string }).messageId)
        const status = request.url === '/fail' ? 503 : 200
        response.writeHead(status, { 'content-type': 'application/json' }).end('{"success":true}')
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise(resolve => server.close(resolve))
  })

  it('sends about the rate asked for over the connections, and counts the answers', async () => {
    const options = { url, connections: 4, durationS: 1, headers: {}, body: () => 'x'.repeat(10) }
    const result = await runOpenLoad({ ...options, path: '/v1/track', overallRate: 200 })
    // Due: 200 in the second; a few may still be on their way at the end.
    expect(result.requests).toBeGreaterThan(150)
    expect(result.requests).toBeLessThanOrEqual(201)
    expect(bodies).toBeGreaterThanOrEqual(result.requests)
    expect(result.non2xx + result.errors).toBe(0)
    expect(result.latencyP99Ms).toBeGreaterThanOrEqual(result.latencyP50Ms)
    const failing = await runOpenLoad({ ...options, path: '/fail', overallRate: 50 })
    expect(failing.requests).toBe(0)
    expect(failing.non2xx).toBeGreaterThan(30)
  })
  it('counts only what is due after the warm-up, and says when the measured window starts', async () => {
    const options = { url, connections: 4, durationS: 0.5, headers: {}, body: () => 'x'.repeat(10) }
    const sentBefore = bodies
    let measuringAt: number | undefined
    const started = Date.now()
    const result = await runOpenLoad({
      ...options,
      path: '/v1/track',
      overallRate: 200,
      warmupS: 0.5,
      onMeasuring: () => {
        measuringAt = Date.now() - started
      },
    })
    // Both halves were sent (about 200), but only the measured half (about 100) is counted.
    expect(bodies - sentBefore).toBeGreaterThan(150)
    expect(result.requests).toBeGreaterThan(70)
    expect(result.requests).toBeLessThanOrEqual(101)
    expect(result.durationS).toBeGreaterThanOrEqual(0.5)
    expect(measuringAt).toBeGreaterThanOrEqual(490)
  })

  it('runs in a process of its own with the bodies of a BodyFactory recipe, and says when it measures', async () => {
    const factory = new BodyFactory('pq', 3, '2026-12-07T10:00:00.000Z')
    let measuring = 0
    const result = await runOpenLoadInProcess(
      {
        url,
        path: '/v1/track',
        connections: 4,
        durationS: 0.5,
        overallRate: 100,
        warmupS: 0.2,
        headers: { 'content-type': 'application/json' },
        bodies: factory.recipe,
        batch: false,
      },
      () => (measuring += 1),
    )
    expect(measuring).toBe(1)
    expect(result.non2xx + result.errors).toBe(0)
    // About 50 due in the measured 0.5 s at 100/s; the warm-up's are sent but not counted.
    expect(result.requests).toBeGreaterThan(20)
    expect(result.requests).toBeLessThanOrEqual(60)
    // The same bodies the factory makes here, fresh messageIds from the start of its sequence.
    expect(messageIds.length).toBeGreaterThanOrEqual(result.requests)
    expect(new Set(messageIds).size).toBe(messageIds.length)
    expect(messageIds).toContain((JSON.parse(factory.single()) as { messageId: string }).messageId)
  }, 20_000)
})
