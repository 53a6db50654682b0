// The fields a 400 names. User.com's error body is not documented (usercom-api.md §1.2: a Go SDK decodes
// `{"id": ..., "errors": <raw json>}`); the team reads `{"errors": {"<field>": ["<message>", ...]}}`, the
// shape the simulator answers, and treats any other body as text. Read once, here, into the typed error:
// the delivery drops the named fields and sends the rest (partial acceptance), never parsing text itself.

/** Field → User.com's messages about it. `non_field_errors` is kept under that name (no field to drop). */
export type FieldErrors = Readonly<Record<string, readonly string[]>>

/** The key User.com (Django REST framework) uses for a problem of the body as a whole. */
export const NON_FIELD_ERRORS = 'non_field_errors'

/** Bounds, so a hostile or huge body cannot make a huge error (or DLQ record, or log line). */
export const MAX_FIELD_ERRORS = 100
export const MAX_MESSAGES_PER_FIELD = 5
export const MAX_FIELD_NAME_LENGTH = 255
export const MAX_FIELD_MESSAGE_LENGTH = 300

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`)

/** A message as text: strings as they are; a nested object or list (a list field's per-item errors) as JSON. */
function messageText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return undefined
  try {
    const text: unknown = JSON.stringify(value)
    return typeof text === 'string' ? text : undefined
  } catch {
    return undefined
  }
}

/**
 * The field errors of a (scrubbed) 400 body, or undefined when it names none: not JSON, no `errors`
 * object, or an empty one. Each message is cut to MAX_FIELD_MESSAGE_LENGTH, at most
 * MAX_MESSAGES_PER_FIELD per field and MAX_FIELD_ERRORS fields.
 */
export function parseFieldErrors(text: string | undefined): FieldErrors | undefined {
  if (text === undefined || text === '') return undefined
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const errors = (body as { errors?: unknown }).errors
  if (typeof errors !== 'object' || errors === null || Array.isArray(errors)) return undefined
  const out: Record<string, string[]> = {}
  let fields = 0
  for (const [field, raw] of Object.entries(errors as Record<string, unknown>)) {
    if (fields >= MAX_FIELD_ERRORS) break
    if (field === '' || field.length > MAX_FIELD_NAME_LENGTH) continue
    const list = Array.isArray(raw) ? raw : [raw]
    const messages: string[] = []
    for (const item of list) {
      if (messages.length >= MAX_MESSAGES_PER_FIELD) break
      const message = messageText(item)
      if (message !== undefined) messages.push(cut(message, MAX_FIELD_MESSAGE_LENGTH))
    }
    // A field with no readable message is still named: the refusal is about it.
    Object.defineProperty(out, field, { value: messages, enumerable: true, writable: false })
    fields += 1
  }
  return fields === 0 ? undefined : out
}
