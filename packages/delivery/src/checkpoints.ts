import { z } from 'zod'
import { IdentitySchema, type Identity } from './identity-cache'
import { InDoubtMarkerSchema, inDoubtKey, type InDoubtMarker } from './in-doubt'

// A delivery's checkpoints: what each step returned, by step key. A retried delivery starts from the
// checkpoints of the attempts before it and skips the steps they hold, so no step that succeeded is
// sent again. Results: `user` → `{ id, user_key? }`, `company` → `{ id }`, `event` / `page_view` →
// `{ id }`, `member` → `{}`, `attribute:<type>:<name_std>` → `{ nameStd, valueType }`. Beside them,
// `inDoubt:<stepKey>` → an InDoubtMarker (in-doubt.ts): a write that may have happened, to look up.

/** Step key → what the step returned (e.g. `{ user: { id, user_key }, company: { id } }`). JSON only. */
export type Checkpoints = Record<string, unknown>

/**
 * Called after each step succeeds, before the next starts: keep it (e.g. for the job data). Also told
 * of in-doubt markers (`inDoubt:` keys, see `isInDoubtKey`): set (the marker) or removed (`undefined`).
 */
export type OnStep = (key: string, result: unknown) => void | Promise<void>

/** Writes the checkpoints where a later attempt finds them, now (awaited before an in-doubt send). */
export type PersistCheckpoints = (checkpoints: Checkpoints) => Promise<void>

const CompanyCheckpointSchema = z.object({ id: z.number().int().positive() })

/** One delivery's checkpoints. `save` is the one place a step's result is recorded. */
export class CheckpointLog {
  /** Every result so far, those carried over from an earlier attempt included. */
  readonly all: Checkpoints

  constructor(
    saved: Readonly<Checkpoints> | undefined,
    private readonly onStep: OnStep | undefined,
    private readonly persist?: PersistCheckpoints,
  ) {
    this.all = { ...saved }
  }

  has(key: string): boolean {
    return key in this.all
  }

  /** Records a result and hands it to `onStep` (awaited: the next step starts after it is kept). */
  async save(key: string, result: unknown): Promise<void> {
    this.all[key] = result
    await this.onStep?.(key, result)
    if (inDoubtKey(key) in this.all) await this.clearInDoubt(key)
  }

  /** The in-doubt marker an earlier attempt left for a step (it may have been sent), if readable. */
  inDoubt(stepKey: string): InDoubtMarker | undefined {
    const parsed = InDoubtMarkerSchema.safeParse(this.all[inDoubtKey(stepKey)])
    return parsed.success ? parsed.data : undefined
  }

  /**
   * Marks a step in doubt and persists the checkpoints before it returns: called just before a write
   * whose outcome could be lost, so a crash after sending still leaves the marker for the next attempt.
   */
  async markInDoubt(stepKey: string, marker: InDoubtMarker): Promise<void> {
    const key = inDoubtKey(stepKey)
    this.all[key] = marker
    await this.onStep?.(key, marker)
    await this.persist?.({ ...this.all })
  }

  /** The write surely had no effect (a 4xx, a 429, a connection never made): no lookup next time. */
  async clearInDoubt(stepKey: string): Promise<void> {
    const key = inDoubtKey(stepKey)
    if (!(key in this.all)) return
    delete this.all[key]
    await this.onStep?.(key, undefined)
  }

  /** The user a step of this delivery (or an earlier attempt) resolved, if its checkpoint is readable. */
  user(): Identity | undefined {
    const parsed = IdentitySchema.safeParse(this.all.user)
    return parsed.success ? parsed.data : undefined
  }

  /** The company a step of this delivery (or an earlier attempt) upserted, if its checkpoint is readable. */
  company(): { id: number } | undefined {
    const parsed = CompanyCheckpointSchema.safeParse(this.all.company)
    return parsed.success ? parsed.data : undefined
  }
}
