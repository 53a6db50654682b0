import { RESERVED_NAMES } from './fields'
import { nameStd } from './names'
import { Problems, badRequest, notAnObject, notFound, ok, parseId, type ApiResult } from './results'
import { SIM_CONTENT_TYPES, SIM_VALUE_TYPES, type SimAttribute } from './schema'
import type { AppData } from './store'
import { charLength, isPlainObject } from './values'

// The custom attribute catalog: `GET /attributes/` and `POST /attributes/` (usercom-api.md §5).

/** "at least 1 character, and cannot be longer than 32 characters" (§5.1). */
export const MAX_ATTRIBUTE_NAME = 32

const ATTRIBUTE_FIELDS = ['name', 'content_type', 'value_type', 'choices', 'allow_multiple_choices']

/** `GET /attributes/?page=N`; `pageUrl(n)` builds the full URL of page n. */
export function listAttributes(
  data: AppData,
  rawPage: string | undefined,
  pageSize: number,
  pageUrl: (page: number) => string,
): ApiResult {
  const all = data.attributes
  const page = rawPage === undefined ? 1 : parseId(rawPage)
  const pages = Math.max(1, Math.ceil(all.length / pageSize))
  if (page === undefined || page > pages) return notFound('Invalid page.')
  return ok({
    count: all.length,
    next: page < pages ? pageUrl(page + 1) : null,
    previous: page > 1 ? pageUrl(page - 1) : null,
    // The listed shape of §5.2: `{id, name, name_std, value_type, content_type}`. A fixed attribute's
    // choices are not listed: a client learns them only from the 400 that refuses a value outside them.
    results: all
      .slice((page - 1) * pageSize, page * pageSize)
      .map(({ id, name, name_std, value_type, content_type }) => ({
        id,
        name,
        name_std,
        value_type,
        content_type,
      })),
  })
}

/** Why an attribute `name` of `contentType` cannot be created, or its `name_std`. */
function nameProblem(data: AppData, name: string, contentType: string): { nameStd: string } | string {
  const std = nameStd(name)
  if (std.length === 0) return 'The name must contain an ASCII letter or digit.'
  if (RESERVED_NAMES[contentType]?.has(std)) {
    return `"${std}" is a standard field of ${contentType}, not a custom attribute.`
  }
  if (data.attribute(contentType, std)) {
    return `Attribute with this name already exists ("${std}", ${contentType}).`
  }
  return { nameStd: std }
}

/** `POST /attributes/`: `201` the attribute. */
export function createAttribute(data: AppData, body: unknown): ApiResult {
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const { name, content_type: contentType, value_type: valueType, choices } = body
  const contentTypeOk =
    typeof contentType === 'string' && (SIM_CONTENT_TYPES as readonly string[]).includes(contentType)
  if (typeof name !== 'string' || name.trim().length === 0) {
    errors.add('name', 'This field is required (at least 1 character).')
  } else if (charLength(name) > MAX_ATTRIBUTE_NAME) {
    errors.add('name', `Ensure this field has no more than ${MAX_ATTRIBUTE_NAME} characters.`)
  } else if (contentTypeOk) {
    const problem = nameProblem(data, name, contentType)
    if (typeof problem === 'string') errors.add('name', problem)
  }
  if (!contentTypeOk) errors.add('content_type', `Must be one of ${SIM_CONTENT_TYPES.join(', ')}.`)
  if (typeof valueType !== 'string' || !(SIM_VALUE_TYPES as readonly string[]).includes(valueType)) {
    errors.add('value_type', `Must be one of ${SIM_VALUE_TYPES.join(', ')}.`)
  }
  if (valueType === 'fixed') {
    if (!Array.isArray(choices) || choices.length === 0 || !choices.every(c => typeof c === 'string')) {
      errors.add('choices', 'A fixed attribute needs a non-empty list of string choices.')
    }
  }
  const multiple = body.allow_multiple_choices
  if (multiple !== undefined && typeof multiple !== 'boolean') {
    errors.add('allow_multiple_choices', 'Must be a valid boolean.')
  }
  errors.unknown(body, ATTRIBUTE_FIELDS)
  if (errors.any()) return errors.result()
  const result = addAttribute(data, {
    name: name as string,
    content_type: contentType as SimAttribute['content_type'],
    value_type: valueType as SimAttribute['value_type'],
    ...(valueType === 'fixed' ? { choices: choices as string[] } : {}),
    ...(valueType === 'fixed' && typeof multiple === 'boolean' ? { allow_multiple_choices: multiple } : {}),
  })
  return typeof result === 'string' ? badRequest({ name: [result] }) : ok({ ...result }, 201)
}

/** Adds an attribute (also used to seed a catalog); a string is the reason it was refused. */
export function addAttribute(
  data: AppData,
  input: Omit<SimAttribute, 'id' | 'name_std'>,
): SimAttribute | string {
  if (input.name.trim().length === 0 || charLength(input.name) > MAX_ATTRIBUTE_NAME) {
    return `The name must have 1 to ${MAX_ATTRIBUTE_NAME} characters.`
  }
  const checked = nameProblem(data, input.name, input.content_type)
  if (typeof checked === 'string') return checked
  const attribute: SimAttribute = { id: data.nextId.attribute++, ...input, name_std: checked.nameStd }
  data.attributes.push(attribute)
  return attribute
}
