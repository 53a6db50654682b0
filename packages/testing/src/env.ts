/** The Redis URL the Jest global setup resolved; throws with a clear message outside that setup. */
export function testRedisUrl(): string {
  const url = process.env.REDIS_URL
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: run tests through the @ucd/testing Jest preset (its global setup finds or starts Redis).',
    )
  }
  return url
}
