import { afterAll, describe, expect, it } from '@jest/globals'
import { startRedisServer, waitFor, type RedisServerHandle } from '@ucd/testing'
import type { FastifyInstance } from 'fastify'
import { basic, json, testApp, track, untilReady, WRITE_KEY } from './helpers'

// A private redis-server per test (never the shared one), killed, frozen and restarted under a
// running ingest: while Redis is away every event request gets 503 at once, never a 200; once it is
// back, requests succeed with the same app (no restart).

const REDIS_TIMEOUT_MS = 300
const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
})

async function setup(server: RedisServerHandle): Promise<FastifyInstance> {
  const { app } = await testApp({
    REDIS_URL: server.url,
    QUEUE_PREFIX: 'outage',
    INGEST_REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
  })
  closers.push(() => app.close())
  return app
}

const send = (app: FastifyInstance, body = track({ messageId: `m-${Math.random()}` })) =>
  app.inject({
    method: 'POST',
    url: '/v1/track',
    headers: { authorization: basic(WRITE_KEY) },
    payload: body,
  })

/** Sends and says how long the answer took. Bounds below only tell "failed fast" from "hung". */
async function timed(app: FastifyInstance) {
  const started = Date.now()
  const response = await send(app)
  return { response, ms: Date.now() - started }
}

describe('Redis outages', () => {
  it('answers 503 at once while Redis is down, and 200 again once it is back', async () => {
    const server = await startRedisServer()
    closers.push(() => server.stop())
    const app = await setup(server)
    await untilReady(app)
    expect((await send(app)).statusCode).toBe(200)

    await server.kill()
    for (let i = 0; i < 5; i++) {
      const { response, ms } = await timed(app)
      expect(response.statusCode).toBe(503)
      expect(json(response)).toMatchObject({ success: false, code: 'UCD_ERR_UNAVAILABLE' })
      expect(ms).toBeLessThan(5000)
    }
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)

    await server.start()
    const messageId = 'after-restart'
    const ok = await waitFor(
      async () => {
        const response = await send(app, track({ messageId }))
        return response.statusCode === 200 ? response : undefined
      },
      { timeoutMs: 20_000, description: 'a 200 after Redis came back' },
    )
    expect(json(ok)).toMatchObject({ accepted: 1 })
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
  })

  it('answers 503 within the timeout while Redis hangs, and recovers when it resumes', async () => {
    const server = await startRedisServer()
    closers.push(() => server.stop())
    const app = await setup(server)
    await untilReady(app)
    expect((await send(app)).statusCode).toBe(200)

    process.kill(server.pid!, 'SIGSTOP')
    try {
      const { response, ms } = await timed(app)
      expect(response.statusCode).toBe(503)
      expect(ms).toBeLessThan(5000)
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    } finally {
      process.kill(server.pid!, 'SIGCONT')
    }
    await waitFor(async () => (await send(app)).statusCode === 200, {
      timeoutMs: 20_000,
      description: 'a 200 after Redis resumed',
    })
  })

  it('starts while Redis is down (not ready, 503) and recovers once Redis is up', async () => {
    const server = await startRedisServer()
    closers.push(() => server.stop())
    await server.kill()
    const app = await setup(server)
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    const { response, ms } = await timed(app)
    expect(response.statusCode).toBe(503)
    expect(ms).toBeLessThan(5000)

    await server.start()
    await untilReady(app, 20_000)
    const ok = await send(app)
    expect(ok.statusCode).toBe(200)
    expect(json(ok)).toMatchObject({ accepted: 1 })
  })
})
