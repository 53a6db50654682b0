import type { EventJobData } from '@ucd/queue'
import { isObject } from '@ucd/segment'
import type { z } from 'zod'
import { InvalidJobError } from './policy'

/** Job data read defensively: the data of an invalid job may be anything, and it must still be dead-lettered. */
export const jobDataOf = (data: unknown): Partial<EventJobData> => (isObject(data) ? data : {})

/** When a job was first tried: its stored time (a finite number, whoever wrote it), else `otherwise`. */
export function firstAttemptOf(data: Partial<EventJobData>, otherwise: number): number {
  const stored: unknown = data.delivery?.firstAttemptAt
  return typeof stored === 'number' && Number.isFinite(stored) ? stored : otherwise
}

/** The `invalid` failure of job data that is not an event job. */
export function invalidJobData(error: z.ZodError): InvalidJobError {
  const where = error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')
  return new InvalidJobError('UCD_ERR_INVALID_JOB', `job data does not match the event job schema (${where})`)
}
