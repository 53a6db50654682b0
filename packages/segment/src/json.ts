/** A JSON object as parsed: string keys, any values. */
export type JsonObject = Record<string, unknown>

/** A plain object (not null, not an array): what every reader of untrusted JSON checks first. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
