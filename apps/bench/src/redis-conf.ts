import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { readRedisConf } from '@ucd/testing'

/**
 * Directives of the shipped infra/redis/redis.conf that decide how much memory data takes: they are
 * applied to the bench's private Redis (with CONFIG SET), so the sizing figures are those of a Redis
 * set up as the project says. Persistence, network and paths are left out (the bench Redis keeps
 * nothing on disk).
 */
const MEMORY_DIRECTIVE =
  /^(maxmemory-policy|(hash|list|set|zset)-max-(listpack|ziplist|intset)-(entries|value|size)|list-compress-depth|stream-node-max-(bytes|entries))$/

/** The root of this checkout (this file is apps/bench/src/redis-conf.ts, or apps/bench/dist/redis-conf.js). */
const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..')

/** infra/redis/redis.conf of this workspace, or of another checkout's root folder. */
export function shippedRedisConfPath(root: string = WORKSPACE_ROOT): string {
  return join(root, 'infra', 'redis', 'redis.conf')
}

/** The memory directives of a redis.conf text, in file order, last occurrence winning. */
export function memorySettings(text: string): Record<string, string> {
  return Object.fromEntries([...readRedisConf(text)].filter(([name]) => MEMORY_DIRECTIVE.test(name)))
}

export function shippedMemorySettings(root?: string): Record<string, string> {
  return memorySettings(readFileSync(shippedRedisConfPath(root), 'utf8'))
}
