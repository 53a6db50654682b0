import { z } from 'zod'
import { IdentitySchema, type Identity } from './identity-cache'

// A delivery's checkpoints: what each step returned, by step key. A retried delivery starts from the
// checkpoints of the attempts before it and skips the steps they hold, so no step that succeeded is
// sent again. Results: `user` → `{ id, user_key? }`, `company` → `{ id }`, `event` / `page_view` →
// `{ id }`, `member` → `{}`, `attribute:<type>:<name_std>` → `{ nameStd, valueType }`.

/** Step key → what the step returned (e.g. `{ user: { id, user_key }, company: { id } }`). JSON only. */
export type Checkpoints = Record<string, unknown>

/** Called after each step succeeds, before the next starts: persist it (e.g. in the job data). */
export type OnStep = (key: string, result: unknown) => void | Promise<void>

const CompanyCheckpointSchema = z.object({ id: z.number().int().positive() })

/** One delivery's checkpoints. `save` is the one place a step's result is recorded. */
export class CheckpointLog {
  /** Every result so far, those carried over from an earlier attempt included. */
  readonly all: Checkpoints

  constructor(
    saved: Readonly<Checkpoints> | undefined,
    private readonly onStep: OnStep | undefined,
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
