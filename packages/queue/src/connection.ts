import type { RedisTarget } from '@ucd/config'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'

/**
 * A connection to Redis: one server (ioredis `Redis`) or a Redis Cluster (ioredis `Cluster`). BullMQ
 * takes either as `connection`; type a Redis handle with this wherever a cluster may be behind it.
 */
export type RedisClient = Redis | Cluster
export type { RedisTarget }
type SingleTarget = Extract<RedisTarget, { kind: 'single' }>
type ClusterTarget = Extract<RedisTarget, { kind: 'cluster' }>

/**
 * What the connection is for:
 * - `producer` (ingest, admin): fail fast. No offline queue and one retry, so a command while Redis
 *   is away throws at once (the ingest answers 503, Segment clients retry); `commandTimeoutMs` bounds
 *   a command that hangs. ioredis keeps reconnecting in the background, so no restart is needed.
 * - `worker` (BullMQ Worker, QueueEvents): wait forever (`maxRetriesPerRequest: null`, as BullMQ
 *   requires) and reconnect with a short capped backoff.
 */
export type ConnectionRole = 'producer' | 'worker'

export interface ConnectionOptions {
  commandTimeoutMs?: number
  connectionName?: string
  /** Connect on first use instead of at once. */
  lazyConnect?: boolean
  /** Producer only: how long disconnect() waits for a closing socket (default 500 ms). */
  disconnectTimeoutMs?: number
}

export function redisOptions(role: ConnectionRole, options: ConnectionOptions = {}): RedisOptions {
  const reconnect = (times: number): number => Math.min(200 * 2 ** Math.min(times, 5), 5000)
  const common: RedisOptions = {
    connectionName: options.connectionName,
    lazyConnect: options.lazyConnect ?? false,
    retryStrategy: reconnect,
    keepAlive: 10_000,
  }
  if (role === 'producer') {
    return {
      ...common,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs,
      // disconnect() while reconnecting leaves ioredis waiting this long (default 2 s, a ref'd timer)
      // for a socket that is already gone, which holds up the process exit.
      disconnectTimeout: options.disconnectTimeoutMs ?? 500,
    }
  }
  return { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true, connectTimeout: 5000 }
}

/**
 * ioredis Cluster options for `role`: the same semantics as `redisOptions` (the per-node ones go in
 * `redisOptions`, where BullMQ looks for `maxRetriesPerRequest`), reads from masters only (replicas lag
 * behind: BullMQ must see its own writes), a ready check on `CLUSTER INFO`, and TLS and credentials for
 * every node when the target has them.
 */
export function clusterOptions(
  target: ClusterTarget,
  role: ConnectionRole,
  options: ConnectionOptions = {},
): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = redisOptions(role, options)
  return {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    enableReadyCheck: true,
    scaleReads: 'master',
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    // With TLS, connect to the names the cluster gives (their certificates name them), not to addresses.
    ...(target.tls ? { dnsLookup: (address, lookup) => lookup(null, address) } : {}),
    redisOptions: {
      ...perNode,
      username: target.username,
      password: target.password,
      ...(target.tls ? { tls: {} } : {}),
    },
  }
}

/**
 * An ioredis connection for `role`: a `Redis` for a single server (a URL or `{ kind: 'single' }`), a
 * `Cluster` for `{ kind: 'cluster' }` (`config.redis` of @ucd/config is either). The caller owns it:
 * close it with `quit()` after the queues using it.
 */
export function createRedisConnection(
  target: string | SingleTarget,
  role: ConnectionRole,
  options?: ConnectionOptions,
): Redis
export function createRedisConnection(
  target: ClusterTarget,
  role: ConnectionRole,
  options?: ConnectionOptions,
): Cluster
export function createRedisConnection(
  target: string | RedisTarget,
  role: ConnectionRole,
  options?: ConnectionOptions,
): RedisClient
export function createRedisConnection(
  target: string | RedisTarget,
  role: ConnectionRole,
  options: ConnectionOptions = {},
): RedisClient {
  if (typeof target === 'string') return new Redis(target, redisOptions(role, options))
  if (target.kind === 'single') return new Redis(target.url, redisOptions(role, options))
  return new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    clusterOptions(target, role, options),
  )
}

/**
 * Resolves once `connection` is ready (a producer connection rejects commands until then, having
 * no offline queue; a cluster is ready once it knows its slots and `CLUSTER INFO` says ok). Rejects
 * after `timeoutMs` with the last connection error.
 */
export async function waitUntilReady(connection: RedisClient, timeoutMs = 5000): Promise<void> {
  if (connection.status === 'ready') return
  if (connection.status === 'wait') void connection.connect().catch(() => undefined)
  await new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined
    const onError = (error: Error): void => {
      lastError = error
    }
    const onReady = (): void => {
      cleanup()
      resolve()
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(
        new Error(`Redis not ready after ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`, {
          cause: lastError,
        }),
      )
    }, timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      connection.off('ready', onReady)
      connection.off('error', onError)
    }
    connection.on('ready', onReady)
    connection.on('error', onError)
  })
}
