import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { createEventsQueue, createRedisConnection, eventJobId, waitUntilReady } from '@ucd/queue'
import {
  cleanupPrefix,
  freePort,
  sleep,
  spawnApp,
  testRedisUrl,
  uniquePrefix,
  type AppProcess,
} from '@ucd/testing'
import { basic, track, WRITE_KEY } from './helpers'

// The built app (dist/main.js) as operators run it: configured by env, stopped by SIGTERM.

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js')
const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const running: AppProcess[] = []

afterAll(async () => {
  for (const app of running) await app.kill()
  await cleanupPrefix(url, prefix)
})

async function start(): Promise<{ app: AppProcess; base: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (pnpm build)`)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await spawnApp({
    args: [MAIN],
    env: {
      SEGMENT_WRITE_KEY: WRITE_KEY,
      INGEST_HOST: '127.0.0.1',
      INGEST_PORT: String(port),
      REDIS_URL: url,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      LOG_PRETTY: '0',
    },
    readyUrl: `${base}/health/ready`,
  })
  running.push(app)
  return { app, base }
}

describe('dist/main.js', () => {
  it('serves, and on SIGTERM finishes the request in flight, closes Redis and exits 0', async () => {
    const { app, base } = await start()
    const ok = await fetch(`${base}/v1/track`, {
      method: 'POST',
      headers: { authorization: basic(WRITE_KEY) },
      body: JSON.stringify(track({ messageId: 'main-1' })),
    })
    expect(ok.status).toBe(200)

    // A request whose body is still arriving when SIGTERM comes.
    const messageId = 'in-flight-during-sigterm'
    const body = JSON.stringify(track({ messageId }))
    const port = Number(new URL(base).port)
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.on('data', chunk => (answer += chunk.toString()))
    const closed = new Promise<void>(resolve => socket.on('close', () => resolve()))
    await new Promise<void>(resolve => socket.once('connect', () => resolve()))
    socket.write(
      `POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic(WRITE_KEY)}\r\n` +
        `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
    )
    await sleep(300)
    const stopping = app.stop('SIGTERM')
    await sleep(300)
    // No new connections once shutdown started.
    await expect(fetch(`${base}/health/live`)).rejects.toThrow()
    socket.write(body.slice(20))
    await closed
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer.toLowerCase()).toContain('connection: close')
    expect(answer).toContain('"accepted":1')

    const result = await stopping
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('shutting down')
    expect(result.stdout).toContain('"msg":"stopped"')
    expect(result.stdout + result.stderr).not.toContain(WRITE_KEY)

    const redis = createRedisConnection(url, 'producer')
    await waitUntilReady(redis)
    const queue = createEventsQueue(redis, prefix)
    expect(await queue.getJob(eventJobId('default', messageId))).toBeDefined()
    await queue.close()
    await redis.quit()
  })

  it('on SIGTERM closes a client stuck mid-request after a grace time and still exits 0', async () => {
    const { app, base } = await start()
    const port = Number(new URL(base).port)
    // Headers never finished, and a body that stops half-way: neither request reaches a handler.
    const stuck = [
      `POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic(WRITE_KEY)}\r\n`,
      `POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{"userId":`,
    ]
    const sockets = await Promise.all(
      stuck.map(async text => {
        const socket = connect(port, '127.0.0.1')
        const closed = new Promise<void>(resolve => socket.on('close', () => resolve()))
        socket.on('error', () => undefined)
        await new Promise<void>(resolve => socket.once('connect', () => resolve()))
        socket.write(text)
        return { closed }
      }),
    )
    await sleep(200)
    const result = await app.stop('SIGTERM', 14_000)
    await Promise.all(sockets.map(socket => socket.closed))
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('closing connections of clients that have not finished sending')
    expect(result.stdout).toContain('"msg":"stopped"')
  }, 30_000)

  it('exits 1 naming every invalid variable', async () => {
    const app = await spawnApp({
      args: [MAIN],
      env: { INGEST_PORT: 'not-a-port', REDIS_URL: 'http://wrong', SEGMENT_WRITE_KEY: '' },
      inheritEnv: false,
    })
    running.push(app)
    const result = await app.exited()
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('INGEST_PORT')
    expect(result.stderr).toContain('REDIS_URL')
    expect(result.stderr).toMatch(/Invalid configuration/)
  })

  it('exits 1 naming SEGMENT_WRITE_KEY when no tenant is configured', async () => {
    const app = await spawnApp({ args: [MAIN], env: { REDIS_URL: url }, inheritEnv: false })
    running.push(app)
    const result = await app.exited()
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('SEGMENT_WRITE_KEY')
  })
})
