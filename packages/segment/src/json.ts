/** A JSON object as parsed: string keys, any values. */
export type JsonObject = Record<string, unknown>

/** A plain object (not null, not an array): what every reader of untrusted JSON checks first. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * An object as JSON.parse makes it: `isObject`, and no prototype but Object's or none (so no `toJSON`,
 * no class instance).
 */
export function isPlainObject(value: unknown): value is JsonObject {
  if (!isObject(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
