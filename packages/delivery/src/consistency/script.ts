import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

/** A Lua script run by its sha (EVALSHA), sent once more in full when Redis answers NOSCRIPT. */
export class Script {
  private readonly sha: string

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }

  /**
   * Runs it on `keys`: one key, or several of one user (or one company), which share a hash slot
   * on Redis Cluster (keys.ts).
   */
  async run(
    redis: Redis | Cluster,
    keys: string | readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    const list = typeof keys === 'string' ? [keys] : keys
    try {
      return await redis.evalsha(this.sha, list.length, ...list, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return redis.eval(this.lua, list.length, ...list, ...args)
    }
  }
}
