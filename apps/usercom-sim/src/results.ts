// What an API handler answers, independent of HTTP transport: a status and a JSON body. Errors
// follow the shapes of the README: 400 → `{"errors": {"<field>": ["<message>"]}}` (every problem
// of the body at once), 404 → `{"detail": "<message>"}`.

export interface ApiResult {
  status: number
  body: unknown
}

export type Errors = Record<string, string[]>

export const ok = (body: unknown, status = 200): ApiResult => ({ status, body })
export const notFound = (detail = 'Not found.'): ApiResult => ({ status: 404, body: { detail } })
export const badRequest = (errors: Errors): ApiResult => ({ status: 400, body: { errors } })
export const notAnObject = (): ApiResult => badRequest({ non_field_errors: ['Expected a JSON object.'] })

export function addError(errors: Errors, field: string, message: string): void {
  ;(errors[field] ??= []).push(message)
}

export const hasErrors = (errors: Errors): boolean => Object.keys(errors).length > 0

/** A positive integer id from a path segment, or undefined. */
export function parseId(raw: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : undefined
}

/** Flags every key of `body` outside `allowed` as an unknown field. */
export function unknownFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
  errors: Errors,
): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) addError(errors, key, 'Unknown field.')
}
