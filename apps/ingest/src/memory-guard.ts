import type { Logger } from '@ucd/logger'
import type { RedisClient } from '@ucd/queue'
import { Cluster, type Redis } from 'ioredis'

/** How often the guard reads `INFO memory`. */
export const MEMORY_CHECK_INTERVAL_MS = 250

/** `used_memory / maxmemory` of an `INFO memory` text; undefined without a maxmemory. */
export function memoryRatio(info: string): number | undefined {
  const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1])
  const max = Number(/^maxmemory:(\d+)/m.exec(info)?.[1])
  if (!Number.isFinite(used) || !Number.isFinite(max) || max <= 0) return undefined
  return used / max
}

/**
 * Watches Redis memory against `maxmemory` (every master of a cluster) and says "full" from
 * `highPercent` % on. The ingest then answers 503 before Redis itself refuses writes: at maxmemory
 * with noeviction Redis refuses a worker's first write in a script too (taking a job moves it between
 * lists), so workers could not drain what frees memory. The headroom above the mark is theirs.
 * 100 turns the guard off (Redis's own OOM errors still answer 503 "full").
 */
export class MemoryGuard {
  private timer: NodeJS.Timeout | undefined
  private checking = false
  private isFull = false

  constructor(
    private readonly connection: RedisClient,
    private readonly highPercent: number,
    private readonly log: Logger,
    private readonly intervalMs = MEMORY_CHECK_INTERVAL_MS,
  ) {}

  get full(): boolean {
    return this.isFull
  }

  start(): void {
    if (this.highPercent >= 100 || this.timer !== undefined) return
    this.timer = setInterval(() => void this.check(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Reads every master's memory once; a failed read leaves the last verdict (the commands fail anyway). */
  async check(): Promise<void> {
    if (this.checking || this.connection.status !== 'ready') return
    this.checking = true
    try {
      const nodes: Redis[] =
        this.connection instanceof Cluster ? this.connection.nodes('master') : [this.connection]
      const ratios = await Promise.all(nodes.map(async node => memoryRatio(await node.info('memory'))))
      const worst = Math.max(0, ...ratios.map(r => r ?? 0))
      const full = worst * 100 >= this.highPercent
      if (full !== this.isFull) {
        this.log[full ? 'warn' : 'info'](
          { usedPercent: Math.round(worst * 1000) / 10, highPercent: this.highPercent },
          full
            ? 'Redis memory above INGEST_REDIS_MEMORY_HIGH_PERCENT of maxmemory: answering 503 until workers free some'
            : 'Redis memory below the mark again: accepting events',
        )
      }
      this.isFull = full
    } catch {
      // Not connected or slow: enqueues fail on their own and answer 503.
    } finally {
      this.checking = false
    }
  }
}
