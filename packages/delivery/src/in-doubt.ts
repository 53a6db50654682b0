import { createHash } from 'node:crypto'
import type { Logger } from '@ucd/logger'
import type { UsercomClient, UsercomEventOccurrence } from '@ucd/usercom-client'
import { z } from 'zod'

// In-doubt event occurrences. User.com has no idempotency key: a `POST /events/` whose answer was lost
// (a 504 after the write, a timeout, a reset after sending, a worker killed between sending and saving
// its checkpoint) may or may not have made the occurrence. Before sending, the step leaves a marker in
// the job's checkpoints (persisted before the request goes out) with what identifies the occurrence;
// a later attempt that finds the marker lists the user's events (`GET /users-by-id/:cid/events/`) and
// looks for it instead of creating it blindly. Only steps with a marker pay for the listing.

/** What identifies one occurrence sent: its name, its timestamp (Unix seconds) and a digest of its data. */
export const InDoubtMarkerSchema = z.object({
  name: z.string(),
  timestamp: z.number().int(),
  digest: z.string(),
  /** Epoch ms the request was (about to be) sent. */
  sentAt: z.number(),
})
export type InDoubtMarker = z.infer<typeof InDoubtMarkerSchema>

/** What a lookup of an in-doubt step found (the metric `ucd_worker_in_doubt_steps_total{outcome}`). */
export type InDoubtOutcome = 'found' | 'not_found'

/** Told of every lookup of an in-doubt step. */
export type OnInDoubt = (outcome: InDoubtOutcome) => void

/** Checkpoint key of a step's in-doubt marker: `inDoubt:<stepKey>` (never a plan step's own key). */
export const inDoubtKey = (stepKey: string): string => `inDoubt:${stepKey}`

/** Whether a checkpoint key is an in-doubt marker (not a step's result: saving one is no progress). */
export const isInDoubtKey = (key: string): boolean => key.startsWith('inDoubt:')

/** JSON with object keys sorted at every level: the same data gives the same text, whatever the key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

/** sha256 of the canonical JSON of an occurrence's data (32 hex digits; `{}` for none). */
export function dataDigest(data: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(data ?? {}))
    .digest('hex')
    .slice(0, 32)
}

/** An occurrence's timestamp in Unix seconds (a number, or an ISO text), else undefined. */
function secondsOf(timestamp: UsercomEventOccurrence['timestamp']): number | undefined {
  if (typeof timestamp === 'number') return Number.isFinite(timestamp) ? Math.floor(timestamp) : undefined
  if (typeof timestamp !== 'string') return undefined
  const ms = Date.parse(timestamp)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

/** Pages listed at most per lookup (100 occurrences a page at User.com): past it, the step is re-sent. */
export const MAX_LOOKUP_PAGES = 50

/**
 * The user's occurrence matching the marker (name, timestamp, data digest), else undefined (also when
 * the user does not exist). The listing is read newest first; while it is in non-increasing timestamp
 * order (what the simulator does; User.com documents no order) the lookup stops at the first occurrence
 * older than the marker's. An unordered listing is read to its end, up to MAX_LOOKUP_PAGES.
 */
export async function findOccurrence(
  client: UsercomClient,
  customId: string,
  marker: InDoubtMarker,
  logger?: Logger,
): Promise<UsercomEventOccurrence | undefined> {
  let page = await client.listUserEvents(customId)
  let pages = 1
  let ordered = true
  let last = Number.POSITIVE_INFINITY
  while (page !== null) {
    for (const occurrence of page.results) {
      const seconds = secondsOf(occurrence.timestamp)
      if (seconds === undefined || seconds > last) ordered = false
      if (seconds !== undefined) last = seconds
      if (
        occurrence.name === marker.name &&
        seconds === marker.timestamp &&
        dataDigest(occurrence.data) === marker.digest
      )
        return occurrence
    }
    if (ordered && last < marker.timestamp) return undefined
    if (page.next === null) return undefined
    if (pages >= MAX_LOOKUP_PAGES) {
      logger?.warn({ pages }, 'in-doubt lookup gave up after the page limit; the occurrence is sent again')
      return undefined
    }
    page = await client.listUserEvents(customId, { page: page.next })
    pages++
  }
  return undefined
}
