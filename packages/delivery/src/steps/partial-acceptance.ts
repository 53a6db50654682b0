import type { Dropped, Operation, Plan } from '@ucd/mapping'
import type { FieldErrors, UsercomRejectedError } from '@ucd/usercom-client'

// Partial acceptance (design.md, Failure taxonomy: "a 400 that names fields: drop them (reported), send
// the rest once more"). A 400 to a step's body that names fields of that body: those fields leave the
// body, each is reported in `dropped` with User.com's message, and the step is sent once more. Bounded:
// once per step; a second 400 to the same step stands (`rejected`). A refusal that names no field the
// body can do without (`non_field_errors`, `custom_id`, an event's `name`, a field not in the body), or
// one that would leave the body empty, stands at once.
//
// The refusals of one delivery are kept here and applied to every plan run after them (a plan made
// again from a fresh catalog keeps them): the plans themselves stay pure mapping output.

/** The steps whose body a 400 can name fields of. */
type BodyStep = Extract<Operation, { op: 'upsert_user' | 'upsert_company' | 'create_event' }>

/** The reason every refused field carries in `dropped`, before User.com's message. */
export const REFUSED = 'refused by User.com'

/** One field a 400 refused: where it was in the step's body, how it is reported. */
interface Refusal {
  /** A key of the body (`nickname`), or of an event's `data` (`data.plan`). */
  path: string
  dropped: Dropped
}

const isBodyStep = (step: Operation): step is BodyStep =>
  step.op === 'upsert_user' || step.op === 'upsert_company' || step.op === 'create_event'

/** How a refused body key is reported: by the object it was for (the user's fields are not traits one to one). */
function reportedField(step: BodyStep, path: string): string {
  switch (step.op) {
    case 'upsert_user':
      return `user.${path}`
    case 'upsert_company':
      return `company.${path}`
    case 'create_event':
      // `data` is the event's `properties` as sent.
      return path === 'data' ? 'properties' : `properties.${path.slice('data.'.length)}`
  }
}

/** Whether the body can do without `path`: what identifies the record or names the event cannot go. */
function droppable(step: BodyStep, path: string): boolean {
  if (step.op === 'create_event') {
    if (path === 'data') return Object.keys(step.body.data).length > 0
    return path.startsWith('data.') && Object.hasOwn(step.body.data, path.slice('data.'.length))
  }
  return path !== 'custom_id' && Object.hasOwn(step.body, path)
}

/** The body without the refused paths. */
function without(step: BodyStep, paths: ReadonlySet<string>): BodyStep {
  if (step.op === 'create_event') {
    const data = paths.has('data')
      ? {}
      : Object.fromEntries(Object.entries(step.body.data).filter(([key]) => !paths.has(`data.${key}`)))
    return { ...step, body: { ...step.body, data } }
  }
  const body = Object.fromEntries(Object.entries(step.body).filter(([key]) => !paths.has(key)))
  return { ...step, body }
}

/** Whether anything is left to send: a user or company body with more than its id; an event always. */
function hasContent(step: BodyStep): boolean {
  if (step.op === 'create_event') return true
  return Object.keys(step.body).some(key => key !== 'custom_id')
}

const messageOf = (messages: readonly string[]): string =>
  messages.length === 0 ? 'no message' : messages.join(' ')

/** One delivery's refusals, by step key. */
export class PartialAcceptance {
  private readonly refused = new Map<string, readonly Refusal[]>()

  /**
   * Records what `error` refused of `step`'s body, when it may be sent again without it: the step was
   * not cut before, the 400 names fields the body can do without, and something is left. Returns
   * whether it was recorded (then the step is sent again, through `apply`).
   */
  accept(step: Operation, error: UsercomRejectedError): boolean {
    const refusals = this.acceptable(step, error)
    if (refusals === undefined) return false
    this.refused.set(step.key, refusals)
    return true
  }

  /** Whether `accept` would record the refusal (it changes nothing). */
  accepts(step: Operation, error: UsercomRejectedError): boolean {
    return this.acceptable(step, error) !== undefined
  }

  private acceptable(step: Operation, error: UsercomRejectedError): Refusal[] | undefined {
    if (!isBodyStep(step) || this.refused.has(step.key)) return undefined
    const refusals = this.refusalsOf(step, error.fieldErrors)
    if (refusals.length === 0) return undefined
    if (!hasContent(without(step, new Set(refusals.map(r => r.path))))) return undefined
    return refusals
  }

  /** The plan with every recorded refusal applied: the fields out of their bodies, each in `dropped`. */
  apply(plan: Plan): Plan {
    if (this.refused.size === 0) return plan
    const dropped: Dropped[] = [...plan.dropped]
    const steps = plan.steps.map(step => {
      const refusals = this.refused.get(step.key)
      if (refusals === undefined || !isBodyStep(step)) return step
      dropped.push(...refusals.map(r => r.dropped))
      return without(step, new Set(refusals.map(r => r.path)))
    })
    return { ...plan, steps, dropped }
  }

  private refusalsOf(step: BodyStep, fieldErrors: FieldErrors | undefined): Refusal[] {
    const refusals: Refusal[] = []
    for (const [path, messages] of Object.entries(fieldErrors ?? {})) {
      if (!droppable(step, path)) continue
      refusals.push({
        path,
        dropped: { field: reportedField(step, path), reason: `${REFUSED}: ${messageOf(messages)}` },
      })
    }
    return refusals
  }
}
