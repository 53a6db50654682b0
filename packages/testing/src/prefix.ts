import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { Redis } from 'ioredis'

/**
 * A BullMQ prefix no other test file uses: `t-<file>-<random>`. Call it once per test file with
 * `__filename`, so two files (or two runs of one file) never see each other's queues or keys.
 */
export function uniquePrefix(hint: string): string {
  const name = basename(hint)
    .replace(/\.(int\.)?test\.[cm]?[jt]s$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .slice(0, 40)
  return `t-${name}-${randomBytes(4).toString('hex')}`
}

/** Deletes every key under `prefix:` (SCAN + UNLINK, never FLUSHDB: the Redis may be shared). */
export async function cleanupPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  await redis.connect()
  let removed = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) removed += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return removed
}
