// startStack in-process, with real processes: the paths the quick-start test does not take. Its own
// redis-server when no Redis answers (stopped with the rest, its directory removed), a second stack in
// the same directory refused, a process that dies taking the stack down with exit 1, and the clear
// failures: no Redis to be had, a REDIS_URL that does not answer, a port that is taken.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { cleanupPrefix, freePort, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { startSimulator } from '@ucd/usercom-sim'
import { pingRedis } from '../redis'
import { startStack, type StackHandle, type StackOptions } from '../stack'
import { processExists, readStackInfo, writeStackInfo } from '../stack-info'

const redisUrl = testRedisUrl()
const prefix = uniquePrefix(__filename)
const dirs: string[] = []
const handles: StackHandle[] = []

function buffer(): { write(text: string): boolean; text(): string } {
  let text = ''
  return {
    write: (chunk: string) => {
      text += chunk
      return true
    },
    text: () => text,
  }
}

function launch(env: Record<string, string>, extra: Partial<StackOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ucd-stack-test-'))
  dirs.push(dir)
  const out = buffer()
  const err = buffer()
  const handle = startStack({
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      INGEST_PORT: '0',
      SIM_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      LOCAL_STACK_DIR: dir,
      ...env,
    },
    out,
    err,
    ...extra,
  })
  handles.push(handle)
  return { handle, out, err, dir }
}

/** A local Redis URL where nothing answers. */
async function deadRedisUrl(): Promise<string> {
  return `redis://127.0.0.1:${await freePort()}`
}

afterAll(async () => {
  for (const handle of handles) handle.kill()
  await Promise.all(handles.map(h => h.done))
  await cleanupPrefix(redisUrl, prefix)
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe('startStack', () => {
  it('starts its own redis-server when no Redis answers, and stops it (and everything else) with the stack', async () => {
    const { handle, out, dir } = launch({}, { localRedisUrl: await deadRedisUrl() })
    const info = await handle.ready
    expect(info.redis.source).toBe('redis-server')
    expect(info.redis.dir).toBeDefined()
    expect(existsSync(info.redis.dir ?? '')).toBe(true)
    expect(await pingRedis(info.redis.url)).toBe(true)
    expect(info.processes.map(p => p.name)).toEqual([
      'redis-server',
      'usercom-sim',
      'ingest',
      'worker-1',
      'worker-2',
    ])
    expect(out.text()).toContain('its own redis-server on 127.0.0.1:')
    expect(out.text()).toContain(`REDIS_URL=${info.redis.url} QUEUE_PREFIX=ucd pnpm admin stats`)

    // A second stack in the same directory is refused while this one runs, and starts nothing.
    const secondOut = buffer()
    const second = startStack({
      env: {
        PATH: process.env.PATH,
        LOCAL_STACK_DIR: dir,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        INGEST_PORT: '0',
        SIM_PORT: '0',
        METRICS_PORT: '0',
      },
      out: secondOut,
      err: buffer(),
    })
    handles.push(second)
    await expect(second.ready).rejects.toThrow(/already running/)
    expect(await second.done).toBe(1)
    expect(readStackInfo(dir).status).toBe('ok')
    expect(secondOut.text()).not.toContain('stopping')

    handle.stop('test')
    expect(await handle.done).toBe(0)
    for (const process of info.processes) expect(processExists(process.pid)).toBe(false)
    expect(await pingRedis(info.redis.url, 300)).toBe(false)
    expect(existsSync(info.redis.dir ?? '')).toBe(false)
    expect(readStackInfo(dir).status).toBe('missing')
    expect(existsSync(join(dir, 'tenants.json'))).toBe(false)
    expect(out.text()).toContain('stopped: every process the stack started has exited')
  }, 120_000)

  it('stops everything and exits 1, saying which, when a process dies unexpectedly', async () => {
    const { handle, out, err } = launch({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix })
    const info = await handle.ready
    const victim = info.processes.find(p => p.name === 'worker-2')
    expect(victim).toBeDefined()
    process.kill(victim?.pid ?? 0, 'SIGKILL')
    expect(await handle.done).toBe(1)
    expect(err.text()).toMatch(/worker-2 \(pid \d+\) exited unexpectedly \(killed by SIGKILL\)/)
    for (const p of info.processes) expect(processExists(p.pid)).toBe(false)
    expect(out.text()).toContain('stopped: every process the stack started has exited')
  }, 120_000)

  it('talks to a configured User.com instead of starting the simulator: one tenant, its write key printed', async () => {
    // A "real" User.com at a URL of its own: the simulator, started by the test, not by the stack.
    const usercom = await startSimulator({ keys: [{ key: 'real-api-key', app: 'prod', revoked: false }] })
    try {
      const { handle, out } = launch({
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        USERCOM_API_KEY: 'real-api-key',
        USERCOM_BASE_URL: usercom.baseUrl,
      })
      const info = await handle.ready
      expect(info).toMatchObject({ mode: 'usercom', simulator: null, tenantsFile: null })
      expect(info.processes.map(p => p.name)).toEqual(['ingest', 'worker-1', 'worker-2'])
      const writeKey = info.tenants[0]?.writeKeys[0] ?? ''
      expect(info.tenants).toEqual([{ id: 'default', writeKeys: [expect.stringMatching(/^wk_local_/)] }])
      expect(out.text()).toMatch(new RegExp(`Write keys +${writeKey} +\\(tenant default\\)`))
      expect(out.text()).toContain(usercom.baseUrl)
      expect(out.text()).not.toContain('real-api-key')

      const response = await fetch(`${info.ingest.url}/v1/track`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ userId: 'u-real', event: 'Deployed' }),
      })
      expect(response.status).toBe(200)
      await waitFor(
        async () => (await usercom.admin.state('prod')).apps.prod?.events.some(e => e.name === 'Deployed'),
        {
          description: 'the event at the configured User.com',
        },
      )
      handle.stop('test')
      expect(await handle.done).toBe(0)
      for (const p of info.processes) expect(processExists(p.pid)).toBe(false)
    } finally {
      await usercom.close()
    }
  }, 120_000)

  it('exits 1 saying how to get Redis when there is none to be had, starting nothing', async () => {
    const { handle, out, err } = launch(
      {},
      { localRedisUrl: await deadRedisUrl(), findRedisServer: () => undefined },
    )
    await expect(handle.ready).rejects.toMatchObject({ code: 'UCD_ERR_STACK_NO_REDIS' })
    expect(await handle.done).toBe(1)
    expect(err.text()).toContain('no redis-server on PATH')
    expect(err.text()).toContain('sudo apt-get install -y redis-server')
    expect(err.text()).toContain('REDIS_URL=redis://host:port')
    expect(out.text()).not.toContain('stopping')
  })

  it('exits 1 when REDIS_URL is set but does not answer (never falls back to another Redis)', async () => {
    const url = await deadRedisUrl()
    const { handle, err } = launch({ REDIS_URL: url })
    expect(await handle.done).toBe(1)
    expect(err.text()).toContain(`REDIS_URL is set, but no Redis answers PING at ${url}`)
  })

  it('exits 1 naming the port and the variable when an asked-for port is taken', async () => {
    const blocker: Server = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const address = blocker.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    try {
      const { handle, err } = launch({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, INGEST_PORT: String(port) })
      expect(await handle.done).toBe(1)
      expect(err.text()).toContain(`Port ${port} for the ingest (INGEST_PORT=${port}) is taken`)
      expect(err.text()).toContain('INGEST_PORT=0 for any free port')
    } finally {
      await new Promise(resolve => blocker.close(resolve))
    }
  })

  it('exits 1 with every configuration problem before starting anything', async () => {
    const { handle, err, out } = launch({
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: 'not a prefix!',
      WORKER_CONCURRENCY: 'lots',
    })
    expect(await handle.done).toBe(1)
    expect(err.text()).toContain('QUEUE_PREFIX')
    expect(err.text()).toContain('WORKER_CONCURRENCY')
    expect(out.text()).not.toContain('stopping')
  })

  it('stops what already started when stopped during start-up, and exits 0', async () => {
    const { handle } = launch({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix })
    const started = await waitFor(() => handle.processes().length === 4 && handle.processes(), {
      description: 'the four processes spawned',
    })
    handle.stop('SIGINT')
    expect(await handle.done).toBe(0)
    await expect(handle.ready).rejects.toThrow()
    for (const p of started) expect(processExists(p.pid)).toBe(false)
  }, 60_000)

  it('stops what a killed launcher left running before starting again', async () => {
    const code = 'setInterval(() => {}, 1000)'
    const orphan = spawn(process.execPath, ['-e', code], { stdio: 'ignore' })
    const orphanExit = new Promise(resolve => orphan.once('exit', (_code, signal) => resolve(signal)))
    const dir = mkdtempSync(join(tmpdir(), 'ucd-stack-test-'))
    dirs.push(dir)
    writeStackInfo(dir, {
      version: 1,
      startedAt: new Date().toISOString(),
      launcherPid: 2 ** 22 + 1, // above Linux's pid_max: a launcher that is gone
      mode: 'simulator',
      redis: { url: redisUrl, source: 'REDIS_URL' },
      queuePrefix: prefix,
      ingest: { url: 'http://127.0.0.1:1', port: 1, metricsUrl: 'http://127.0.0.1:2' },
      simulator: null,
      workers: [],
      tenantsFile: null,
      tenants: [],
      processes: [{ name: 'ingest', pid: orphan.pid ?? 0, command: `${process.execPath} -e ${code}` }],
      adminEnv: {},
    })
    // A bad setting ends this start right after the check: only the clean-up is under test.
    const out = buffer()
    const handle = startStack({
      env: { PATH: process.env.PATH, LOCAL_STACK_DIR: dir, REDIS_URL: redisUrl, QUEUE_PREFIX: 'bad prefix!' },
      out,
      err: buffer(),
    })
    handles.push(handle)
    expect(await handle.done).toBe(1)
    expect(await orphanExit).toBe('SIGKILL')
    expect(out.text()).toContain(
      `stopping ingest (pid ${orphan.pid}), left running by a stack whose launcher was killed`,
    )
    expect(readStackInfo(dir).status).toBe('missing')
  })
})
