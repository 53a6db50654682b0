import { applyAttributes, sortTraits } from './attributes'
import { mapContext } from './context'
import { traitKey } from './names'
import { countryHintOf, toE164 } from './phone'
import { emailOf, httpUrlOf, isObject, textOf, timezoneOf } from './util'
import { convertValue, truncate } from './values'
import type { AttributeInput, EntityMapping } from './attributes'
import type { AttributeCatalog, Dropped } from './operations'
import type { JsonObject } from './util'

// identify: traits and context → the body of POST /users/update_or_create/ (WIRE.md), plus the
// custom attributes to create first. The mapping table is in this package's README.

/** User.com limit for first_name and last_name. */
export const MAX_NAME_LENGTH = 40

/** Fields of the User.com user itself: a custom attribute may not be called like one of these. */
export const USER_FIELDS: ReadonlySet<string> = new Set([
  // writable standard fields (WIRE.md)
  'custom_id',
  'email',
  'first_name',
  'last_name',
  'phone_number',
  'gender',
  'country',
  'region',
  'city',
  'timezone',
  'gravatar_url',
  'facebook_url',
  'linkedin_url',
  'twitter_url',
  'google_url',
  'unsubscribed',
  'notifications',
  'score',
  'status',
  'tags',
  'company_custom_id',
  // read-only fields of the user object (usercom-api.md §2.9)
  'id',
  'key',
  'user_key',
  'user_id',
  'name',
  'company_id',
  'companies',
  'assigned_to',
  'attributes',
  'lists',
  'page_views',
  'first_seen',
  'last_seen',
  'created_at',
  'updated_at',
])

type Standard =
  | 'email'
  | 'first_name'
  | 'last_name'
  | 'name'
  | 'phone'
  | 'gender'
  | 'address'
  | 'city'
  | 'region'
  | 'country'
  | 'timezone'
  | 'gravatar_url'
  | 'facebook_url'
  | 'linkedin_url'
  | 'twitter_url'
  | 'google_url'
  | 'unsubscribed'
  | 'notifications'
  | 'score'
  | 'status'
  | 'tags'

/** Standard traits by their obj-case key (`First Name`, `firstName`, `first_name` → `firstname`). */
const STANDARD_TRAITS = new Map<string, Standard>([
  ['email', 'email'],
  ['firstname', 'first_name'],
  ['lastname', 'last_name'],
  ['name', 'name'],
  ['phone', 'phone'],
  ['phonenumber', 'phone'],
  ['gender', 'gender'],
  ['address', 'address'],
  ['city', 'city'],
  ['region', 'region'],
  ['country', 'country'],
  ['timezone', 'timezone'],
  ['avatar', 'gravatar_url'],
  ['avatarurl', 'gravatar_url'],
  ['photourl', 'gravatar_url'],
  ['gravatarurl', 'gravatar_url'],
  ['facebookurl', 'facebook_url'],
  ['linkedinurl', 'linkedin_url'],
  ['twitterurl', 'twitter_url'],
  ['googleurl', 'google_url'],
  ['unsubscribed', 'unsubscribed'],
  ['notifications', 'notifications'],
  ['score', 'score'],
  ['status', 'status'],
  ['tags', 'tags'],
])

const GENDERS = new Map<string, number>([
  ['unknown', 1],
  ['u', 1],
  ['male', 2],
  ['m', 2],
  ['female', 3],
  ['f', 3],
])

/** Parts of an address object that have a user field (the others have none). */
const ADDRESS_PARTS = new Map<string, string>([
  ['city', 'city'],
  ['state', 'region'],
  ['region', 'region'],
  ['country', 'country'],
])

const STATUSES = new Map<string, number>([
  ['visitor', 1],
  ['user', 2],
])

/** `male`, `F`, `Unknown`, ... → 2 / 3 / 1 (User.com's gender integers). */
export function toGender(value: unknown): number | undefined {
  if (value === 1 || value === 2 || value === 3) return value
  return typeof value === 'string' ? GENDERS.get(value.trim().toLowerCase()) : undefined
}

function toStatus(value: unknown): number | undefined {
  if (value === 1 || value === 2) return value
  return typeof value === 'string' ? STATUSES.get(value.trim().toLowerCase()) : undefined
}

function toTags(value: unknown): string[] | undefined {
  const items = Array.isArray(value) ? value : [value]
  const tags = items.map(textOf).filter((t): t is string => t !== undefined)
  return tags.length === 0 ? undefined : [...new Set(tags)]
}

interface Ctx {
  standard: JsonObject
  custom: AttributeInput[]
  dropped: Dropped[]
  countryHint: ReturnType<typeof countryHintOf>
  fromAddress: JsonObject
  name?: string
}

function setName(ctx: Ctx, field: string, target: 'first_name' | 'last_name', value: unknown): void {
  const name = textOf(value)
  if (name === undefined) {
    ctx.dropped.push({ field, reason: `${target} must be a non-empty string` })
    return
  }
  const cut = truncate(name, MAX_NAME_LENGTH)
  ctx.standard[target] = cut
  if (cut !== name)
    ctx.dropped.push({ field, reason: `truncated to ${MAX_NAME_LENGTH} characters (${target})` })
}

function setText(ctx: Ctx, field: string, target: string, value: unknown): void {
  const text = textOf(value)
  if (text === undefined) ctx.dropped.push({ field, reason: `${target} must be a non-empty string` })
  else ctx.standard[target] = text
}

function setConverted(ctx: Ctx, field: string, target: string, converted: unknown, what: string): void {
  if (converted === undefined) ctx.dropped.push({ field, reason: `not ${what} (${target})` })
  else ctx.standard[target] = converted
}

function mapStandard(ctx: Ctx, kind: Standard, field: string, value: unknown): void {
  switch (kind) {
    case 'first_name':
    case 'last_name':
      return setName(ctx, field, kind, value)
    case 'name': {
      const name = textOf(value)
      if (name === undefined) ctx.dropped.push({ field, reason: 'name must be a non-empty string' })
      else ctx.name = name
      return
    }
    case 'phone': {
      const e164 = toE164(value, ctx.countryHint)
      // Not a valid number: kept as the custom attribute `phone` (User.com takes only E.164).
      if (e164 === undefined) ctx.custom.push({ nameStd: 'phone', field, value })
      else ctx.standard.phone_number = e164
      return
    }
    case 'gender':
      return setConverted(ctx, field, 'gender', toGender(value), 'male, female or unknown')
    case 'address': {
      if (!isObject(value)) {
        ctx.dropped.push({ field, reason: 'address must be an object (city, state, country, ...)' })
        return
      }
      for (const [key, part] of Object.entries(value)) {
        const target = ADDRESS_PARTS.get(traitKey(key))
        const partField = `${field}.${key}`
        if (target === undefined) {
          ctx.dropped.push({ field: partField, reason: 'no User.com user field for it' })
        } else if (ctx.fromAddress[target] !== undefined || textOf(part) === undefined) {
          ctx.dropped.push({ field: partField, reason: `not used for ${target}` })
        } else {
          ctx.fromAddress[target] = textOf(part)
        }
      }
      return
    }
    case 'unsubscribed':
    case 'notifications': {
      const converted = convertValue(value, 'boolean')
      return setConverted(ctx, field, kind, converted.ok ? converted.value : undefined, 'a boolean')
    }
    case 'score': {
      const converted = convertValue(value, 'integer')
      return setConverted(ctx, field, kind, converted.ok ? converted.value : undefined, 'an integer')
    }
    case 'status':
      return setConverted(ctx, field, kind, toStatus(value), 'visitor or user')
    case 'tags':
      return setConverted(ctx, field, kind, toTags(value), 'a list of tags')
    case 'email':
      return setConverted(ctx, field, kind, emailOf(value), 'an email address')
    case 'timezone':
      return setConverted(ctx, field, kind, timezoneOf(value), 'a time zone name such as Europe/Warsaw')
    case 'gravatar_url':
    case 'facebook_url':
    case 'linkedin_url':
    case 'twitter_url':
    case 'google_url':
      return setConverted(ctx, field, kind, httpUrlOf(value), 'an http(s) URL')
    default:
      return setText(ctx, field, kind, value)
  }
}

/**
 * identify → `{ custom_id, ...standard fields, ...custom attributes by name_std }` and the
 * attributes to create first. Traits win over context; a trait that cannot be used is in `dropped`.
 */
export function mapIdentify(
  customId: string,
  traits: JsonObject,
  context: JsonObject,
  catalog: AttributeCatalog,
  dropped: Dropped[],
): EntityMapping {
  const ctx: Ctx = { standard: {}, custom: [], dropped, countryHint: countryHintOf(traits), fromAddress: {} }
  sortTraits(traits, STANDARD_TRAITS, USER_FIELDS, ctx, (kind, field, value) =>
    mapStandard(ctx, kind, field, value),
  )

  // address.city/state/country fill what top-level traits did not set.
  for (const [target, value] of Object.entries(ctx.fromAddress)) ctx.standard[target] ??= value
  // `name` gives first and last name when neither was sent ("Peter Gibbons" → Peter / Gibbons).
  if (
    ctx.name !== undefined &&
    ctx.standard.first_name === undefined &&
    ctx.standard.last_name === undefined
  ) {
    const [first = '', ...rest] = ctx.name.split(/\s+/)
    ctx.standard.first_name = truncate(first, MAX_NAME_LENGTH)
    if (rest.length > 0) ctx.standard.last_name = truncate(rest.join(' '), MAX_NAME_LENGTH)
  }

  const fromContext = mapContext(context)
  if (ctx.standard.timezone === undefined && fromContext.timezone !== undefined) {
    const timezone = timezoneOf(fromContext.timezone)
    if (timezone === undefined)
      dropped.push({ field: 'context.timezone', reason: 'not a time zone name (timezone)' })
    else ctx.standard.timezone = timezone
  }
  const fromTraits = new Set(ctx.custom.map(input => input.nameStd))
  const inputs = [...ctx.custom, ...fromContext.attributes.filter(input => !fromTraits.has(input.nameStd))]
  const applied = applyAttributes(inputs, 'clientuser', catalog, dropped)
  return { ensure: applied.ensure, body: { custom_id: customId, ...ctx.standard, ...applied.values } }
}
