import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { pingRedis, redactUrl } from '@ucd/testing'
import { StackError } from './errors'

// Where the local stack's Redis comes from, in design.md's order: REDIS_URL if set (it must answer),
// else 127.0.0.1:6379 if it answers, else a redis-server binary the stack starts on a free port in a
// temporary directory, else a clear message. (The same order as @ucd/testing's startRedis, without the
// container fallback; the PING is @ucd/testing's.)

export const DEFAULT_LOCAL_REDIS_URL = 'redis://127.0.0.1:6379'

export const HOW_TO_GET_REDIS = [
  'The local stack needs Redis 7. Any one of these works:',
  '  - set REDIS_URL=redis://host:port to a Redis you run;',
  '  - run a Redis on 127.0.0.1:6379 (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis && brew services start redis);',
  '  - or install the redis-server binary on PATH (same packages): the stack then starts its own on a free port and stops it on exit;',
  '  - or with Docker: docker run -d --name ucd-redis -p 6379:6379 redis:7',
].join('\n')

export type RedisChoice =
  { kind: 'url'; url: string; source: 'REDIS_URL' | 'local' } | { kind: 'server'; binary: string }

/** The first executable `redis-server` on `path` (a PATH-style list), without running a shell. */
export function findRedisServer(path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export interface ChooseRedisOptions {
  /** REDIS_URL, when set. */
  redisUrl: string | undefined
  /** Where to look for a running Redis (tests pass a port nothing listens on). */
  localUrl?: string
  /** Finds a redis-server binary; undefined when there is none. */
  findBinary: () => string | undefined
}

/** Decides where Redis comes from; throws a StackError saying how to get Redis when nothing fits. */
export async function chooseRedis(options: ChooseRedisOptions): Promise<RedisChoice> {
  const fromEnv = options.redisUrl?.trim()
  if (fromEnv) {
    if (await pingRedis(fromEnv, 2000)) return { kind: 'url', url: fromEnv, source: 'REDIS_URL' }
    throw new StackError(
      'UCD_ERR_STACK_NO_REDIS',
      `REDIS_URL is set, but no Redis answers PING at ${redactUrl(fromEnv)}.\n` +
        'Start that Redis, fix REDIS_URL, or unset it to use a local one.\n' +
        HOW_TO_GET_REDIS,
    )
  }
  const localUrl = options.localUrl ?? DEFAULT_LOCAL_REDIS_URL
  if (await pingRedis(localUrl, 1000)) return { kind: 'url', url: localUrl, source: 'local' }
  const binary = options.findBinary()
  if (binary) return { kind: 'server', binary }
  throw new StackError(
    'UCD_ERR_STACK_NO_REDIS',
    `No Redis: REDIS_URL is not set, nothing answers at ${redactUrl(localUrl)}, and there is no redis-server on PATH.\n` +
      HOW_TO_GET_REDIS,
  )
}

/** Arguments of a throwaway redis-server: loopback only, nothing persisted, files in `dir`. */
export { redisServerArgs } from '@ucd/testing'

export { pingRedis }
