export default async function globalTeardown(): Promise<void> {
  const redis = globalThis.__UCD_TEST_REDIS__
  globalThis.__UCD_TEST_REDIS__ = undefined
  if (redis) await redis.stop()
}
