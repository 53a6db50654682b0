import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './ports'
import { findBinary, RedisUnavailableError, startRedisServer, type RedisServerHandle } from './redis'
import { waitFor } from './wait'

// A throwaway Redis Cluster for tests: `masters` redis-server processes in cluster mode on free
// loopback ports, files in one temporary directory, nothing persisted, joined by
// `redis-cli --cluster create`. No Docker.

export const HOW_TO_GET_REDIS_CLUSTER = [
  'A local Redis Cluster needs the redis-server and redis-cli binaries (Redis 7 or later) on PATH:',
  '  - Debian/Ubuntu: sudo apt-get install -y redis-server (it brings redis-cli);',
  '  - macOS: brew install redis;',
  '  - or build Redis from https://redis.io/downloads and put src/redis-server and src/redis-cli on PATH.',
].join('\n')

export interface RedisClusterNode {
  host: string
  port: number
}

export interface RedisClusterHandle {
  /** Every node; each is a master (no replicas). */
  readonly nodes: RedisClusterNode[]
  /** `host:port,host:port,...`: the value for REDIS_CLUSTER_NODES. */
  readonly seeds: string
  /** `config.redis` for this cluster, for `createRedisConnection(target, role)` of @ucd/queue. */
  readonly target: { kind: 'cluster'; nodes: RedisClusterNode[]; tls: false }
  /** Where the nodes keep their files (nodes.conf); removed by `stop()`. */
  readonly dir: string
  /** DBSIZE of each master, in the order of `nodes`. */
  dbSizes(): Promise<number[]>
  /** Stops the servers and removes the directory (done anyway once the process is gone). */
  stop(): Promise<void>
}

export interface RedisClusterOptions {
  /** How many masters (at least 3, as Redis Cluster requires). Default 3. */
  masters?: number
  /** How long to wait for `cluster_state:ok` on every node (default 30 s). */
  readyTimeoutMs?: number
  /** Where to look for redis-server and redis-cli (default: PATH). */
  searchPath?: string
}

/**
 * Kills `pids` and removes `dir` once this process is gone, however it ends (a failed test, SIGKILL):
 * a detached shell polls for it. (A process 'exit' hook would not do: Jest gives each test file its
 * own copy of `process`, whose 'exit' never fires.) Killed by `stop()`, which cleans up itself.
 */
function startReaper(pids: readonly number[], dir: string): ChildProcess {
  const script =
    'parent=$1; dir=$2; shift 2; while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -9 "$@"; rm -rf "$dir"'
  const reaper = spawn(
    '/bin/sh',
    ['-c', script, 'ucd-cluster-reaper', String(process.pid), dir, ...pids.map(String)],
    {
      detached: true,
      stdio: 'ignore',
    },
  )
  reaper.unref()
  return reaper
}

/** Runs `redis-cli` with `args`; rejects with its output when it fails or takes over `timeoutMs`. */
async function redisCli(binary: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', error => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else
        reject(
          new Error(
            `redis-cli ${args.join(' ')} failed (code ${String(code)}, signal ${String(signal)}):\n${output.slice(-3000)}`,
          ),
        )
    })
  })
}

/** Runs `use` with a short-lived plain connection to one node. */
async function withNode<T>(node: RedisClusterNode, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ ...node, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    return await use(redis)
  } finally {
    redis.disconnect()
  }
}

/** `CLUSTER INFO` of `node` as a map (`cluster_state` → `ok`, ...). */
async function clusterInfo(node: RedisClusterNode): Promise<Map<string, string>> {
  const text = await withNode(node, redis => redis.call('CLUSTER', 'INFO') as Promise<string>)
  return new Map(
    text
      .split(/\r?\n/)
      .map(line => line.split(':') as [string, string | undefined])
      .filter((pair): pair is [string, string] => pair[1] !== undefined)
      .map(([key, value]) => [key, value.trim()]),
  )
}

/** Distinct free ports (client and cluster bus ports must differ). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

/**
 * Starts a local Redis Cluster of `masters` masters (no replicas) from the redis-server binary, and
 * resolves once every node's `CLUSTER INFO` says `cluster_state:ok` and knows every other node.
 * Throws a RedisUnavailableError saying how to get Redis when redis-server or redis-cli is missing.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3
  if (!Number.isInteger(masters) || masters < 3)
    throw new RangeError(`a Redis Cluster needs at least 3 masters, not ${masters}`)
  const server = findBinary('redis-server', options.searchPath)
  const cli = findBinary('redis-cli', options.searchPath)
  if (server === undefined || cli === undefined) {
    const missing = [server === undefined ? 'redis-server' : '', cli === undefined ? 'redis-cli' : '']
    throw new RedisUnavailableError(
      `No ${missing.filter(Boolean).join(' or ')} binary on PATH.\n${HOW_TO_GET_REDIS_CLUSTER}`,
    )
  }

  const dir = mkdtempSync(join(tmpdir(), 'ucd-redis-cluster-'))
  const servers: RedisServerHandle[] = []
  let reaper: ChildProcess | undefined
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await Promise.all(servers.map(s => s.stop()))
    rmSync(dir, { recursive: true, force: true })
    reaper?.kill('SIGKILL')
  }

  try {
    const ports = await freePorts(masters * 2)
    const nodes = Array.from({ length: masters }, (_, i) => ({ host: '127.0.0.1', port: ports[i]! }))
    await Promise.all(
      nodes.map(async ({ port }, i) => {
        const nodeDir = join(dir, String(port))
        mkdirSync(nodeDir)
        const handle = await startRedisServer({
          binary: server,
          port,
          dir: nodeDir,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-port',
            String(ports[masters + i]),
            '--cluster-node-timeout',
            '5000',
          ],
        })
        servers.push(handle)
      }),
    )
    reaper = startReaper(
      servers.flatMap(s => (s.pid === undefined ? [] : [s.pid])),
      dir,
    )
    const addresses = nodes.map(({ host, port }) => `${host}:${port}`)
    await redisCli(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    await waitFor(
      async () => {
        const infos = await Promise.all(nodes.map(clusterInfo))
        return infos.every(
          info => info.get('cluster_state') === 'ok' && info.get('cluster_known_nodes') === String(masters),
        )
      },
      {
        timeoutMs: options.readyTimeoutMs ?? 30_000,
        intervalMs: 100,
        description: `cluster_state:ok on every node of the cluster at ${addresses.join(',')}`,
      },
    )
    return {
      nodes,
      seeds: addresses.join(','),
      dir,
      target: { kind: 'cluster', nodes, tls: false },
      dbSizes: () => Promise.all(nodes.map(node => withNode(node, redis => redis.dbsize()))),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
