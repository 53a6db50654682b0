import { traitKey } from './names'

export type JsonObject = Record<string, unknown>

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Non-blank text (numbers become strings), trimmed; undefined otherwise. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim()
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/** The first value of an object whose key is one of `keys` in obj-case (`postal_code` ≈ `postalCode`). */
export function pick(object: JsonObject, ...keys: string[]): unknown {
  for (const [key, value] of Object.entries(object)) {
    if (keys.includes(traitKey(key))) return value
  }
  return undefined
}
