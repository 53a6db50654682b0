import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A Lua script run by its sha (EVALSHA), sent once more in full when Redis answers NOSCRIPT. */
export class Script {
  private readonly sha: string

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }

  /** Runs it on one key (every script of this package touches one user's or one company's key). */
  async run(redis: Redis, key: string, args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, 1, key, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return redis.eval(this.lua, 1, key, ...args)
    }
  }
}
