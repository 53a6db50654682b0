import { attributeName, MAX_ATTRIBUTE_NAME_LENGTH, traitKey } from './names'
import { convertAttributeValue, convertValue } from './values'
import type {
  AttributeCatalog,
  AttributeContentType,
  AttributeDef,
  CreatedValueType,
  Dropped,
  Operation,
} from './operations'
import type { JsonObject } from './util'

// Custom attributes, shared by users (identify) and companies (group): typed by the tenant's
// catalog, created as `string` when missing (the destination doc's rule; `signed_up_at`, from
// Segment's `createdAt`, as `datetime`).

/** One candidate custom attribute value and where it came from. */
export interface AttributeInput {
  nameStd: string
  /** e.g. `traits.custom_integer`, `context.userAgent`. */
  field: string
  value: unknown
  /** The value type to create the attribute with when it does not exist (default `string`). */
  createAs?: CreatedValueType
}

export type EnsureAttributeOp = Extract<Operation, { op: 'ensure_attribute' }>

/** identify's or group's result: the user or company request body, and the attributes to create first. */
export interface EntityMapping {
  ensure: EnsureAttributeOp[]
  body: JsonObject
}

export interface AppliedAttributes {
  /** Attributes to create first, in order of appearance. */
  ensure: EnsureAttributeOp[]
  /** `name_std` → value, ready for a request body. */
  values: Record<string, unknown>
}

/** The catalog's definition of `nameStd` for a content type (the first, if listed twice). */
export function findAttribute(
  catalog: AttributeCatalog,
  contentType: AttributeContentType,
  nameStd: string,
): AttributeDef | undefined {
  return catalog.find(def => def.contentType === contentType && def.nameStd === nameStd)
}

/**
 * A trait name as a custom attribute `name_std`, or the reason it cannot be one: empty after
 * snake-casing, or a field of the User.com object itself (`reserved`).
 */
export function customName(
  key: string,
  reserved: ReadonlySet<string>,
): { ok: true; nameStd: string; shortened: boolean } | { ok: false; reason: string } {
  const { nameStd, shortened } = attributeName(key)
  if (nameStd === '')
    return { ok: false, reason: 'the name has no ASCII letter or digit to make an attribute name from' }
  if (reserved.has(nameStd))
    return { ok: false, reason: `"${nameStd}" is a User.com field, not a custom attribute` }
  return { ok: true, nameStd, shortened }
}

/** The report of a trait whose name was longer than an attribute name may be (its value is kept). */
export function shortenedReason(nameStd: string): string {
  return `name longer than ${MAX_ATTRIBUTE_NAME_LENGTH} characters: shortened to attribute ${nameStd}`
}

/**
 * Sorts traits the same way for users and companies: a trait whose normalised name is a standard
 * one goes to `onStandard`, `null` included (each standard field says what a null does); the first
 * trait of each kind wins, a later one is dropped. Any other trait becomes a custom attribute
 * candidate (or is dropped when it cannot be one). `prefix` is where the traits are (`traits.`,
 * `traits.company.`), for `dropped`.
 */
export function sortTraits<Kind>(
  traits: Readonly<Record<string, unknown>>,
  standardTraits: ReadonlyMap<string, Kind>,
  reserved: ReadonlySet<string>,
  out: { custom: AttributeInput[]; dropped: Dropped[] },
  onStandard: (kind: Kind, field: string, value: unknown) => void,
  prefix = 'traits.',
): void {
  const used = new Map<Kind, string>()
  for (const [key, value] of Object.entries(traits)) {
    const field = `${prefix}${key}`
    const kind = standardTraits.get(traitKey(key))
    if (kind === undefined) {
      const name = customName(key, reserved)
      if (!name.ok) out.dropped.push({ field, reason: name.reason })
      else {
        out.custom.push({ nameStd: name.nameStd, field, value })
        if (name.shortened) out.dropped.push({ field, reason: shortenedReason(name.nameStd) })
      }
      continue
    }
    const first = used.get(kind)
    if (first !== undefined) {
      out.dropped.push({ field, reason: `same trait as ${first}, which is used` })
      continue
    }
    used.set(kind, field)
    onStandard(kind, field, value)
  }
}

export function applyAttributes(
  inputs: readonly AttributeInput[],
  contentType: AttributeContentType,
  catalog: AttributeCatalog,
  dropped: Dropped[],
): AppliedAttributes {
  const ensure: EnsureAttributeOp[] = []
  const values: Record<string, unknown> = {}
  const seen = new Map<string, string>()
  for (const input of inputs) {
    const { nameStd, field, value } = input
    const first = seen.get(nameStd)
    if (first !== undefined) {
      dropped.push({ field, reason: `same attribute "${nameStd}" as ${first}, which is used` })
      continue
    }
    seen.set(nameStd, field)
    const def = findAttribute(catalog, contentType, nameStd)
    if (def !== undefined) {
      const converted = convertAttributeValue(value, def)
      if (!converted.ok) {
        dropped.push({
          field,
          reason: `${converted.reason}: cannot be converted to ${def.valueType} (attribute ${nameStd})`,
        })
        continue
      }
      values[nameStd] = converted.value
      if (converted.note !== undefined)
        dropped.push({ field, reason: `${converted.note} (attribute ${nameStd})` })
      continue
    }
    if (value === null) {
      dropped.push({ field, reason: `null for attribute ${nameStd}, which does not exist: nothing to clear` })
      continue
    }
    // Not defined yet: created as `string` (or `createAs`), and the value converted to that type.
    const valueType = input.createAs ?? 'string'
    const converted = convertValue(value, valueType)
    if (!converted.ok) {
      dropped.push({ field, reason: `${converted.reason} (new ${valueType} attribute ${nameStd})` })
      continue
    }
    ensure.push({
      op: 'ensure_attribute',
      key: `attribute:${contentType}:${nameStd}`,
      contentType,
      name: nameStd.slice(0, MAX_ATTRIBUTE_NAME_LENGTH),
      nameStd,
      valueType,
    })
    values[nameStd] = converted.value
    if (converted.note !== undefined)
      dropped.push({ field, reason: `${converted.note} (attribute ${nameStd})` })
  }
  return { ensure, values }
}
