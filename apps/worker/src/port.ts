import type { Config, Tenant } from '@ucd/config'
import type { Logger } from '@ucd/logger'
import type { Dropped } from '@ucd/mapping'
import type { SegmentEvent } from '@ucd/segment'
import type { Redis } from 'ioredis'
import type { WorkerMetrics } from './metrics'

/** What the worker needs from the User.com side: run one event's plan, resuming from checkpoints. */
export interface DeliveryPort {
  deliver(
    event: SegmentEvent,
    options: {
      checkpoints: Readonly<Record<string, unknown>>
      /** A step's result, or an in-doubt marker set (its value) or removed (`undefined`). */
      onStep: (key: string, result: unknown) => void
      /** Writes the checkpoints to the job now: awaited before a write whose answer could be lost. */
      persist?: (checkpoints: Record<string, unknown>) => Promise<void>
    },
  ): Promise<{ skipped?: string | undefined; dropped: readonly Dropped[] }>
}

export interface DeliveryPortContext {
  config: Config
  /** A connection for caches and rate limiters (waits while Redis is away). */
  redis: Redis
  metrics: WorkerMetrics
  logger: Logger
}

export type DeliveryPortFactory = (tenant: Tenant, context: DeliveryPortContext) => DeliveryPort
