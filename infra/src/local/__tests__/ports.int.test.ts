// Port choice and Redis choice with real sockets on loopback.
import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { freePort as testFreePort, testRedisUrl } from '@ucd/testing'
import { StackError } from '../errors'
import { choosePort, isPortFree } from '../ports'
import { chooseRedis, pingRedis } from '../redis'

let blocker: Server
let busy: number
const sockets: Socket[] = []

beforeAll(async () => {
  // Accepts and never answers: a port that is taken by something that is not Redis.
  blocker = createServer(socket => sockets.push(socket))
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  const address = blocker.address()
  busy = typeof address === 'object' && address !== null ? address.port : 0
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise(resolve => blocker.close(resolve))
})

const request = (value: string | undefined, defaultPort: number, offset?: number) => ({
  what: 'the ingest',
  variable: 'INGEST_PORT',
  value,
  defaultPort,
  host: '127.0.0.1',
  offset,
})

describe('choosePort', () => {
  it('knows a taken port from a free one', async () => {
    expect(await isPortFree(busy, '127.0.0.1')).toBe(false)
    expect(await isPortFree(await testFreePort(), '127.0.0.1')).toBe(true)
  })

  it('uses the default when it is free, and says nothing', async () => {
    const port = await testFreePort()
    expect(await choosePort(request(undefined, port), new Set())).toEqual({ port })
  })

  it('picks a free port when the default is taken, and says so', async () => {
    const chosen = await choosePort(request(undefined, busy), new Set())
    expect(chosen.port).not.toBe(busy)
    expect(await isPortFree(chosen.port, '127.0.0.1')).toBe(true)
    expect(chosen.note).toBe(
      `port ${busy} is taken: the ingest listens on ${chosen.port} instead (INGEST_PORT chooses one)`,
    )
  })

  it('picks any free port for 0, never one already chosen for another process', async () => {
    const taken = new Set<number>()
    const ports = []
    for (let i = 0; i < 5; i++) ports.push((await choosePort(request('0', 8080), taken)).port)
    expect(new Set(ports).size).toBe(5)
    expect([...taken].sort()).toEqual([...ports].sort())
  })

  it('uses an explicit port exactly, with an offset for the second worker', async () => {
    const port = await testFreePort()
    expect(await choosePort(request(String(port), 8080), new Set())).toEqual({ port })
    expect((await choosePort(request(String(port - 1), 8080, 1), new Set())).port).toBe(port)
  })

  it('refuses an explicit port that is taken (or chosen already), saying what to do', async () => {
    const error = await choosePort(request(String(busy), 8080), new Set()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StackError)
    expect((error as StackError).code).toBe('UCD_ERR_STACK_PORT')
    expect((error as StackError).message).toContain(
      `Port ${busy} for the ingest (INGEST_PORT=${busy}) is taken`,
    )
    const free = await testFreePort()
    await expect(choosePort(request(String(free), 8080), new Set([free]))).rejects.toThrow(/is taken/)
  })

  it('refuses a value that is not a port', async () => {
    for (const value of ['http', '-1', '70000', '80.5']) {
      await expect(choosePort(request(value, 8080), new Set())).rejects.toThrow(/is not a port/)
    }
  })
})

describe('chooseRedis and pingRedis', () => {
  it('uses REDIS_URL when it answers', async () => {
    expect(await pingRedis(testRedisUrl())).toBe(true)
    expect(await chooseRedis({ redisUrl: testRedisUrl(), findBinary: () => undefined })).toEqual({
      kind: 'url',
      url: testRedisUrl(),
      source: 'REDIS_URL',
    })
  })

  it('uses the local Redis when REDIS_URL is not set and it answers', async () => {
    const choice = await chooseRedis({ redisUrl: '', localUrl: testRedisUrl(), findBinary: () => 'x' })
    expect(choice).toEqual({ kind: 'url', url: testRedisUrl(), source: 'local' })
  })

  it('starts redis-server when nothing answers and there is a binary', async () => {
    const dead = `redis://127.0.0.1:${await testFreePort()}`
    expect(await pingRedis(dead, 300)).toBe(false)
    expect(
      await chooseRedis({ redisUrl: undefined, localUrl: dead, findBinary: () => '/bin/redis-server' }),
    ).toEqual({
      kind: 'server',
      binary: '/bin/redis-server',
    })
  })

  it('does not answer PONG for something that is not Redis', async () => {
    expect(await pingRedis(`redis://127.0.0.1:${busy}`, 300)).toBe(false)
    expect(await pingRedis('not a url')).toBe(false)
  })
})
