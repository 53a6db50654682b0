import type { SegmentEvent } from '@ucd/segment'

export interface EnqueueResult {
  /** Events whose jobs Redis acknowledged. */
  accepted: SegmentEvent[]
  /** Events already accepted before (same tenant and messageId), or twice in this request. */
  duplicates: SegmentEvent[]
}

/**
 * What the HTTP app needs of the event store: `EventProducer` (Redis and BullMQ) in production and in
 * the integration tests, a small in-memory one in the unit tests. The app never closes it: whoever
 * creates it closes it, after `app.close()` has let the requests in flight finish (main.ts).
 */
export interface IngestProducer {
  /** Connected and able to enqueue right now. */
  readonly ready: boolean
  /** Readiness probe: true when the store answers (`/health/ready`). */
  ping(): Promise<boolean>
  /**
   * Dedupes `events` by (tenant, messageId) and enqueues the rest; resolves once they are stored.
   * Throws UnavailableError (503) when the store is down, fails or is too slow: nothing was accepted.
   */
  enqueue(tenantId: string, events: readonly SegmentEvent[], receivedAt: string): Promise<EnqueueResult>
  /** Waits for enqueues in flight, then lets go of the store. */
  close(): Promise<void>
}
