import { startRedis, type RedisHandle } from '../redis'

declare global {
  var __UCD_TEST_REDIS__: RedisHandle | undefined
}

/**
 * Runs once per Jest run, before any test file: resolves a real Redis and exports its URL as
 * REDIS_URL, which the test workers (forked after this) and the apps they spawn inherit. With no
 * Redis to be had it throws, so the run fails loudly and says how to get one.
 */
export default async function globalSetup(): Promise<void> {
  const redis = await startRedis()
  globalThis.__UCD_TEST_REDIS__ = redis
  process.env.REDIS_URL = redis.url
  if (redis.source !== 'REDIS_URL' && redis.source !== 'local') {
    process.stderr.write(`\n[@ucd/testing] using a Redis from ${redis.source} at ${redis.url}\n`)
  }
}
