import { traitKey } from './names'
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MAX_URL_LENGTH, cutText } from './limits'
import { toE164 } from './phone'
import { emailOf, httpUrlOf, isObject, textOf, timezoneOf } from './util'
import { convertValue } from './values'
import type { AttributeInput } from './attributes'
import type { CountryCode } from 'libphonenumber-js'
import type { Dropped } from './operations'
import type { JsonObject } from './util'

// identify's reserved traits → User.com's standard user fields (the mapping table in README.md).
// A reserved trait sent as `null` clears its field where User.com takes a null (segment-spec.md §4:
// "A reserved trait sent as null replaces the stored value with null"); an omitted one is not sent.

export type Standard =
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
  | 'created_at'
  | 'company'

/** Standard traits by their obj-case key (`First Name`, `firstName`, `first_name` → `firstname`). */
export const STANDARD_TRAITS = new Map<string, Standard>([
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
  ['createdat', 'created_at'],
  ['company', 'company'],
])

/**
 * The custom attribute Segment's `createdAt` becomes: `created_at` is User.com's own (when the user
 * was created in User.com), so the sign-up date gets a name that cannot clash with it.
 */
export const SIGNED_UP_AT = 'signed_up_at'

const MALE = new Set(['male', 'm', 'man'])
const FEMALE = new Set(['female', 'f', 'woman'])

/** Parts of an address object that have a user field (the others have none). */
const ADDRESS_PARTS = new Map<string, 'city' | 'region' | 'country'>([
  ['city', 'city'],
  ['state', 'region'],
  ['region', 'region'],
  ['country', 'country'],
])

const STATUSES = new Map<string, number>([
  ['visitor', 1],
  ['user', 2],
])

/**
 * User.com's gender integers: `male`/`m`/`man` → 2, `female`/`f`/`woman` → 3 (any case), 1, 2, 3 as
 * they are, any other word (`other`, `non-binary`, `prefer not to say`, `unknown`) → 1 ("unknown").
 */
export function toGender(value: unknown): number | undefined {
  if (value === 1 || value === 2 || value === 3) return value
  const word = typeof value === 'string' ? value.trim().toLowerCase() : ''
  if (word === '') return undefined
  return MALE.has(word) ? 2 : FEMALE.has(word) ? 3 : 1
}

function toStatus(value: unknown): number | undefined {
  if (value === 1 || value === 2) return value
  return typeof value === 'string' ? STATUSES.get(value.trim().toLowerCase()) : undefined
}

/** identify's company trait, as the planner upserts it after the user. */
export interface CompanyTrait {
  field: string
  value: unknown
}

/** What the reserved traits of one identify come to. */
export interface UserTraits {
  standard: JsonObject
  custom: AttributeInput[]
  dropped: Dropped[]
  countryHint: CountryCode | undefined
  /** address.city/state/country, used where the top-level trait is absent (null clears). */
  fromAddress: Map<'city' | 'region' | 'country', { field: string; value: string | null }>
  name?: { field: string; value: string | null }
  company?: CompanyTrait
}

function noNull(out: UserTraits, field: string, target: string): void {
  out.dropped.push({ field, reason: `null does not clear ${target}: User.com takes no null for it` })
}

/** A value for `target`, or the reason it is not one (`what` it should be). */
function set(out: UserTraits, field: string, target: string, value: unknown, what: string): void {
  if (value === undefined) out.dropped.push({ field, reason: `not ${what} (${target})` })
  else out.standard[target] = value
}

function setText(out: UserTraits, field: string, target: string, value: unknown, max: number): void {
  const text = textOf(value)
  if (text === undefined) out.dropped.push({ field, reason: `${target} must be a non-empty string` })
  else out.standard[target] = cutText(text, max, field, target, out.dropped)
}

function mapAddress(out: UserTraits, field: string, value: unknown): void {
  if (value === null) {
    for (const target of ['city', 'region', 'country'] as const)
      out.fromAddress.set(target, { field, value: null })
    return
  }
  if (!isObject(value)) {
    out.dropped.push({ field, reason: 'address must be an object (city, state, country, ...)' })
    return
  }
  for (const [key, part] of Object.entries(value)) {
    const target = ADDRESS_PARTS.get(traitKey(key))
    const partField = `${field}.${key}`
    const text = textOf(part)
    if (target === undefined) {
      out.dropped.push({ field: partField, reason: 'no User.com user field for it' })
    } else if (out.fromAddress.has(target) || (part !== null && text === undefined)) {
      out.dropped.push({ field: partField, reason: `not used for ${target}` })
    } else {
      out.fromAddress.set(target, { field: partField, value: part === null ? null : (text ?? null) })
    }
  }
}

/** One reserved trait (`kind`) of an identify into `out`. */
export function mapStandard(out: UserTraits, kind: Standard, field: string, value: unknown): void {
  switch (kind) {
    case 'first_name':
    case 'last_name':
      if (value === null) out.standard[kind] = null
      else setText(out, field, kind, value, MAX_NAME_LENGTH)
      return
    case 'name': {
      const name = value === null ? null : textOf(value)
      if (name === undefined) out.dropped.push({ field, reason: 'name must be a non-empty string' })
      else out.name = { field, value: name }
      return
    }
    case 'phone': {
      if (value === null) {
        out.standard.phone_number = null
        return
      }
      const e164 = toE164(value, out.countryHint)
      if (e164 !== undefined) out.standard.phone_number = e164
      else
        out.dropped.push({
          field,
          reason:
            'not a phone number User.com takes (E.164; a national number needs traits.country or address.country)',
        })
      return
    }
    case 'gender':
      // null: back to User.com's default, 1 (unknown).
      return set(out, field, 'gender', value === null ? 1 : toGender(value), 'a gender word or 1, 2, 3')
    case 'address':
      return mapAddress(out, field, value)
    case 'unsubscribed':
    case 'notifications': {
      if (value === null) return noNull(out, field, kind)
      const converted = convertValue(value, 'boolean')
      return set(out, field, kind, converted.ok ? converted.value : undefined, 'a boolean')
    }
    case 'score': {
      if (value === null) return noNull(out, field, kind)
      const converted = convertValue(value, 'integer')
      return set(out, field, kind, converted.ok ? converted.value : undefined, 'an integer')
    }
    case 'status':
      if (value === null) return noNull(out, field, kind)
      return set(out, field, kind, toStatus(value), 'visitor or user')
    case 'tags': {
      if (value === null) return noNull(out, field, kind)
      const items = Array.isArray(value) ? value : [value]
      const tags = items
        .map(textOf)
        .filter((tag): tag is string => tag !== undefined)
        .map(tag => cutText(tag, MAX_TEXT_LENGTH, field, 'tags', out.dropped))
      return set(out, field, kind, tags.length === 0 ? undefined : [...new Set(tags)], 'a list of tags')
    }
    case 'email':
      return set(out, field, kind, value === null ? null : emailOf(value), 'an email address')
    case 'timezone':
      return set(
        out,
        field,
        kind,
        value === null ? null : timezoneOf(value),
        'a time zone name such as Europe/Warsaw',
      )
    case 'gravatar_url':
    case 'facebook_url':
    case 'linkedin_url':
    case 'twitter_url':
    case 'google_url': {
      const url = value === null ? null : httpUrlOf(value)
      if (url === undefined) return set(out, field, kind, undefined, 'an http(s) URL')
      out.standard[kind] = url === null ? null : cutText(url, MAX_URL_LENGTH, field, kind, out.dropped)
      return
    }
    case 'created_at':
      out.custom.push({ nameStd: SIGNED_UP_AT, field, value, createAs: 'datetime' })
      return
    case 'company':
      if (value === null) {
        out.dropped.push({ field, reason: 'null: User.com has no call that takes a user out of a company' })
      } else {
        out.company = { field, value }
      }
      return
    case 'city':
    case 'region':
    case 'country':
      if (value === null) out.standard[kind] = null
      else setText(out, field, kind, value, MAX_TEXT_LENGTH)
      return
  }
}
