import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseRedisConf, redisSetting } from '@ucd/infra'

/**
 * Directives of the shipped infra/redis/redis.conf that decide how much memory data takes: they are
 * applied to the bench's private Redis (with CONFIG SET), so the sizing figures are those of a Redis
 * set up as the project says. Persistence, network and paths are left out (the bench Redis keeps
 * nothing on disk).
 */
const MEMORY_DIRECTIVE =
  /^(maxmemory-policy|(hash|list|set|zset)-max-(listpack|ziplist|intset)-(entries|value|size)|list-compress-depth|stream-node-max-(bytes|entries))$/

/** infra/redis/redis.conf of this workspace, or of another checkout's root folder. */
export function shippedRedisConfPath(root?: string): string {
  return root === undefined
    ? join(dirname(require.resolve('@ucd/infra/package.json')), 'redis', 'redis.conf')
    : join(root, 'infra', 'redis', 'redis.conf')
}

/** The memory directives of a redis.conf text, in file order, last occurrence winning. */
export function memorySettings(text: string): Record<string, string> {
  const conf = parseRedisConf(text)
  const out: Record<string, string> = {}
  for (const name of conf.keys()) {
    const value = redisSetting(conf, name)
    if (MEMORY_DIRECTIVE.test(name) && value !== undefined) out[name] = value
  }
  return out
}

export function shippedMemorySettings(root?: string): Record<string, string> {
  return memorySettings(readFileSync(shippedRedisConfPath(root), 'utf8'))
}
