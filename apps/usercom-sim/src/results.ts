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

/** The problems of one request body, by field: every one is reported at once. */
export class Problems {
  readonly errors: Errors = {}

  add(field: string, message: string): void {
    ;(this.errors[field] ??= []).push(message)
  }

  any(): boolean {
    return Object.keys(this.errors).length > 0
  }

  /** Flags every key of `body` outside `allowed` as an unknown field. */
  unknown(body: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(body)) if (!allowed.includes(key)) this.add(key, 'Unknown field.')
  }

  /** The 400 that names them. */
  result(): ApiResult {
    return badRequest(this.errors)
  }
}

/** A positive integer id from a path segment, or undefined. */
export function parseId(raw: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : undefined
}
