export {
  startRedis,
  startRedisServer,
  redisServerArgs,
  pingRedis,
  findRedisServerBinary,
  redactUrl,
  RedisUnavailableError,
  HOW_TO_GET_REDIS,
} from './redis'
export type {
  RedisHandle,
  RedisServerHandle,
  RedisServerOptions,
  RedisSource,
  StartRedisOptions,
} from './redis'
export { uniquePrefix, cleanupPrefix } from './prefix'
export { freePort } from './ports'
export { spawnApp } from './process'
export { httpOk } from './http'
export type { AppProcess, ExitResult, SpawnAppOptions } from './process'
export { waitFor, sleep } from './wait'
export type { WaitOptions } from './wait'
export { testRedisUrl } from './env'
