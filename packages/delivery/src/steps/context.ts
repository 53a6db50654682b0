import type { Logger } from '@ucd/logger'
import type { Operation, OperationKind, Plan } from '@ucd/mapping'
import type { UsercomClient, UsercomRejectedError } from '@ucd/usercom-client'
import type { CheckpointLog } from '../checkpoints'
import type { OnInDoubt } from '../in-doubt'
import type { MergeOutcome } from '../identity/merge'
import type { AnonymousVisitors } from '../identity/visitors'
import type { UserResolver } from '../user-resolver'
import type { AttributeCreator } from './ensure-attribute'

// What a step runner gets, and what it answers. A runner runs one operation of the plan and says what
// happened; it does not record its result (the executor checkpoints it) and does not decide whether the
// delivery may re-plan (the executor keeps that budget).

/** One operation of a plan, by its `op`. */
export type Step<K extends OperationKind> = Extract<Operation, { op: K }>

/** Why a step asks for the rest of the delivery to be planned again. */
export type ReplanReason =
  /** An attribute the plan ensured already existed with another value type: convert the values again. */
  | { kind: 'attribute_type_differs'; attribute: string; valueType: string }
  /**
   * A 400 on a step's body: built from a cached catalog that may be out of date (deleted, retyped), or
   * naming fields the body can do without (partial acceptance, steps/partial-acceptance.ts).
   */
  | BodyRejected

export interface BodyRejected {
  kind: 'body_rejected'
  /** What User.com answered: it stands when neither a fresh catalog nor leaving out its fields helps. */
  error: UsercomRejectedError
}

export type StepOutcome =
  /** It succeeded: `result` is its checkpoint; with `replan`, plan the rest again before going on. */
  | { succeeded: true; result: unknown; replan?: ReplanReason }
  /** It did not take effect, and a plan made from a fresh catalog may do better. */
  | { succeeded: false; replan: BodyRejected }

/** Per-executor services and this delivery's state, as the runners see them. */
export interface StepContext {
  client: UsercomClient
  users: UserResolver
  attributes: AttributeCreator
  /** This delivery's checkpoints (runners read them, and save `user` / `company` they resolve on the way). */
  checkpoints: CheckpointLog
  /** The plan being run. */
  plan: Plan
  /** Epoch ms now. */
  now: () => number
  /** Told of every lookup of an in-doubt step (metrics). */
  onInDoubt?: OnInDoubt
  /** Anonymous visitors' identity state; undefined when the tenant does not merge. */
  visitors?: AnonymousVisitors
  /** Told every merge step's outcome (the worker counts them). */
  onMerge?: (outcome: MergeOutcome) => void
  logger?: Logger
}

export type StepRunner<K extends OperationKind> = (
  step: Step<K>,
  context: StepContext,
) => Promise<StepOutcome>
