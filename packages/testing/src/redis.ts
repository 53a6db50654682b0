import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { freePort } from './ports'
import { sleep } from './wait'

/** Where the Redis for this run came from, in the order design.md gives. */
export type RedisSource = 'REDIS_URL' | 'local' | 'redis-server' | 'testcontainers'

export interface RedisHandle {
  readonly url: string
  readonly source: RedisSource
  /** Stops what this handle started (a no-op for a Redis it did not start). */
  stop(): Promise<void>
}

export class RedisUnavailableError extends Error {
  readonly code = 'UCD_ERR_TEST_REDIS_UNAVAILABLE'
  constructor(message: string) {
    super(message)
    this.name = 'RedisUnavailableError'
  }
}

export const HOW_TO_GET_REDIS = [
  'Tests need a real Redis (never a mock). Any one of these works:',
  '  - set REDIS_URL=redis://host:port to a Redis you run;',
  '  - run a Redis on 127.0.0.1:6379 (Debian/Ubuntu: sudo apt-get install -y redis-server && redis-server --daemonize yes);',
  '  - install the redis-server binary on PATH and the tests start one on a free port themselves;',
  '  - or have a Docker-compatible container runtime running (testcontainers starts redis:7).',
].join('\n')

/**
 * Answers true when a Redis at `url` replies PONG within `timeoutMs`. Never throws. Speaks RESP on a
 * plain socket (AUTH first when the URL has a password) so that nothing lingers after it returns.
 */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'
  const port = Number(parsed.port || 6379)
  const commands: string[][] = []
  if (parsed.password) {
    const password = decodeURIComponent(parsed.password)
    commands.push(
      parsed.username ? ['AUTH', decodeURIComponent(parsed.username), password] : ['AUTH', password],
    )
  }
  commands.push(['PING'])
  const payload = commands
    .map(args => `*${args.length}\r\n${args.map(a => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('')
  return new Promise(resolve => {
    const socket: Socket =
      parsed.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: host })
        : netConnect({ host, port })
    let reply = ''
    let done = false
    const finish = (ok: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.once(parsed.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write(payload))
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString()
      if (reply.startsWith('-')) finish(false)
      else if (reply.includes('+PONG')) finish(true)
    })
    socket.on('error', () => finish(false))
    socket.on('close', () => finish(reply.includes('+PONG')))
  })
}

/** The path of an executable (`redis-server`, `redis-cli`) on PATH (or on `searchPath`), or undefined. */
export function findBinary(name: string, searchPath?: string): string | undefined {
  const env = searchPath === undefined ? process.env : { ...process.env, PATH: searchPath }
  const found = spawnSync('/bin/sh', ['-c', 'command -v "$0"', name], { encoding: 'utf8', env })
  const path = found.stdout.trim()
  return found.status === 0 && path ? path : undefined
}

export function findRedisServerBinary(): string | undefined {
  return findBinary('redis-server')
}

export interface RedisServerHandle extends RedisHandle {
  readonly port: number
  readonly pid: number | undefined
  /**
   * Kills the server (SIGKILL), as a crash would; `start()` brings it back on the same port: empty,
   * or with every acknowledged write when started with `persistent: true`.
   */
  kill(): Promise<void>
  /** Starts the server again on the same port after `kill()` or `stop()`. */
  start(): Promise<void>
}

/**
 * Arguments of a throwaway redis-server: loopback only, files in `dir`, no RDB snapshots; nothing
 * persisted, or with `persistent` an AOF with fsync always.
 */
export function redisServerArgs(port: number, dir: string, persistent = false): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ]
}

/**
 * Starts a private `redis-server` on a free port in a temporary directory, with nothing persisted.
 * Use it where a test must stop or restart Redis: never do that to a shared Redis.
 */
export interface RedisServerOptions {
  binary?: string
  port?: number
  /** AOF with fsync always: acknowledged writes survive kill() and start(). */
  persistent?: boolean
  /** More redis-server arguments (e.g. cluster mode: startRedisCluster). */
  extraArgs?: readonly string[]
  /** Keep the files here (the caller creates and removes it) instead of a temporary directory. */
  dir?: string
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = options.binary ?? findRedisServerBinary()
  if (!binary) throw new RedisUnavailableError(`No redis-server binary on PATH.\n${HOW_TO_GET_REDIS}`)
  const port = options.port ?? (await freePort())
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ucd-redis-'))
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  let output = ''

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return
    output = ''
    const args = [...redisServerArgs(port, dir, options.persistent), ...(options.extraArgs ?? [])]
    const proc = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child = proc
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break
      if (await pingRedis(url, 300)) return
      await sleep(50)
    }
    proc.kill('SIGKILL')
    throw new RedisUnavailableError(
      `redis-server on port ${port} did not answer within 10 s.\n${output.slice(-2000)}`,
    )
  }

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>(resolve => proc.once('exit', () => resolve()))
    proc.kill(signal)
    await exited
  }

  await start()
  return {
    url,
    port,
    source: 'redis-server',
    get pid() {
      return child?.pid
    },
    start,
    kill: () => terminate('SIGKILL'),
    stop: async () => {
      await terminate('SIGTERM')
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    // Loaded only here: testcontainers is heavy and optional.
    const { getContainerRuntimeClient } = await import('testcontainers')
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000).unref()),
    ])
    return true
  } catch {
    return false
  }
}

async function startContainer(): Promise<RedisHandle> {
  const { GenericContainer, Wait } = await import('testcontainers')
  const container = await new GenericContainer('redis:7')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start()
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    source: 'testcontainers',
    stop: async () => {
      await container.stop()
    },
  }
}

export interface StartRedisOptions {
  /** Defaults to process.env; tests of this function pass their own. */
  env?: Readonly<Record<string, string | undefined>>
  /** Where to look for a running Redis before starting one. */
  localUrl?: string
  /** Turn off the later fallbacks (used by tests of the order). */
  allowBinary?: boolean
  allowContainers?: boolean
}

/**
 * A working Redis for tests, in the order of design.md: REDIS_URL if set (and it must answer: a
 * REDIS_URL that does not answer is an error, never silently replaced), else 127.0.0.1:6379 if it
 * answers, else a redis-server binary on a free port in a temp dir, else testcontainers redis:7 when
 * a container runtime answers, else a RedisUnavailableError saying how to get Redis.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisHandle> {
  const env = options.env ?? process.env
  const noop = (): Promise<void> => Promise.resolve()
  const fromEnv = env.REDIS_URL?.trim()
  if (fromEnv) {
    if (await pingRedis(fromEnv, 2000)) return { url: fromEnv, source: 'REDIS_URL', stop: noop }
    throw new RedisUnavailableError(
      `REDIS_URL is set but no Redis answers PING there (${redactUrl(fromEnv)}).\n${HOW_TO_GET_REDIS}`,
    )
  }
  const localUrl = options.localUrl ?? 'redis://127.0.0.1:6379'
  if (await pingRedis(localUrl, 1000)) return { url: localUrl, source: 'local', stop: noop }
  if (options.allowBinary !== false) {
    const binary = findRedisServerBinary()
    if (binary) return startRedisServer({ binary })
  }
  if (options.allowContainers !== false && (await containerRuntimeAnswers())) return startContainer()
  throw new RedisUnavailableError(`No Redis could be found or started for the tests.\n${HOW_TO_GET_REDIS}`)
}

/**
 * A Redis URL with any password replaced (in the user info or as ioredis' `?password=`), for messages.
 * (apps/admin has its own: this package sits below every other and is only a dev dependency there.)
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return '<unparseable URL>'
  }
}
