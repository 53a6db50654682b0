import { Redis, type RedisOptions } from 'ioredis'

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

/** An ioredis connection for `role`. The caller owns it: close it with `quit()` after the queues using it. */
export function createRedisConnection(
  url: string,
  role: ConnectionRole,
  options: ConnectionOptions = {},
): Redis {
  return new Redis(url, redisOptions(role, options))
}

/**
 * Resolves once `connection` is ready (a producer connection rejects commands until then, having
 * no offline queue). Rejects after `timeoutMs` with the last connection error.
 */
export async function waitUntilReady(connection: Redis, timeoutMs = 5000): Promise<void> {
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
