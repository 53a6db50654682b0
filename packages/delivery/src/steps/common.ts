import { UsercomRejectedError } from '@ucd/usercom-client'
import type { Step } from './context'

/** A 400 answer (not another 4xx, not a 404): what "exists already" and "bad body" look like. */
export function isBadRequest(error: unknown): error is UsercomRejectedError {
  return error instanceof UsercomRejectedError && error.status === 400
}

/**
 * The body a state-setting step sends, finalised just before it is sent: today the planned body as it
 * is. The place for what must see the body last: per-field last-write-wins (issue 14) drops the fields
 * older than their stored clocks here, and partial acceptance (issue 17) the fields a 400 named.
 */
export function outgoingBody(step: Step<'upsert_user' | 'upsert_company'>): Record<string, unknown> {
  return step.body
}
