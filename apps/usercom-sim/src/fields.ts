import { E164, charLength, isEmail } from './values'

// The standard fields of User.com's users and companies (usercom-api.md §2.1, §2.2, §2.8, §2.9, §6):
// which a body may write, with their rules and the value `null` leaves behind, and which are
// read-only. A custom attribute may not take any of these names.

/** Why a value is not acceptable, or undefined. `null` is checked before a rule runs. */
export type Rule = (value: unknown) => string | undefined

export interface FieldSpec {
  rule: Rule
  /** What `null` sets the field to (it clears the field). */
  cleared: unknown
  /**
   * `tags`: adds to the list; `membership`: joins a company (`null` changes nothing);
   * `value`: replaces the value.
   */
  kind: 'value' | 'tags' | 'membership'
}

/** Longest standard string field, URL and description (the simulator's own limits, README). */
export const MAX_STRING = 255
export const MAX_URL = 2000
export const MAX_DESCRIPTION = 10_000
/** first_name / last_name: "the maximum number of characters is 40" (§2.1). */
export const MAX_PERSON_NAME = 40

const tooLong = (max: number): string => `Ensure this field has no more than ${max} characters.`

export const stringRule =
  (max: number): Rule =>
  value => {
    if (typeof value !== 'string') return 'Not a valid string.'
    return charLength(value) > max ? tooLong(max) : undefined
  }
const emailRule: Rule = value =>
  typeof value === 'string' && isEmail(value) ? undefined : 'Enter a valid email address.'
const booleanRule: Rule = value => (typeof value === 'boolean' ? undefined : 'Must be a valid boolean.')
export const integerRule: Rule = value =>
  typeof value === 'number' && Number.isSafeInteger(value) ? undefined : 'A valid integer is required.'
const idRule: Rule = value =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0
    ? undefined
    : 'A valid positive integer (an id) is required.'
const oneOf =
  (allowed: readonly number[], what: string): Rule =>
  value =>
    typeof value === 'number' && allowed.includes(value) ? undefined : `Must be one of ${what}.`
export const tagsRule: Rule = value =>
  Array.isArray(value) &&
  value.every(item => typeof item === 'string' && item.length > 0 && charLength(item) <= MAX_STRING)
    ? undefined
    : `Must be a list of non-empty strings of at most ${MAX_STRING} characters.`
const phoneRule: Rule = value =>
  typeof value === 'string' && E164.test(value)
    ? undefined
    : 'Enter a valid phone number in E.164 format, e.g. +48123456789.'

const replace = (rule: Rule, cleared: unknown = null): FieldSpec => ({ rule, cleared, kind: 'value' })

/** Where users and companies are: the same three fields for both. */
const PLACE: Readonly<Record<string, FieldSpec>> = {
  country: replace(stringRule(MAX_STRING)),
  region: replace(stringRule(MAX_STRING)),
  city: replace(stringRule(MAX_STRING)),
}

/**
 * Writable standard user fields: the "Allowed attributes" of §2.8 (`custom_id` is the match key and
 * checked apart), plus `tags` and `company_custom_id` of the update_or_create body (§2.2).
 */
export const USER_FIELDS: Readonly<Record<string, FieldSpec>> = {
  email: replace(emailRule),
  first_name: replace(stringRule(MAX_PERSON_NAME)),
  last_name: replace(stringRule(MAX_PERSON_NAME)),
  phone_number: replace(phoneRule),
  gender: replace(oneOf([1, 2, 3], '1 (unknown), 2 (male), 3 (female)'), 1),
  status: replace(oneOf([1, 2], '1 (visitor), 2 (user)'), 1),
  score: replace(integerRule, 0),
  unsubscribed: replace(booleanRule, false),
  notifications: replace(booleanRule, true),
  ...PLACE,
  timezone: replace(stringRule(MAX_STRING)),
  gravatar_url: replace(stringRule(MAX_URL)),
  facebook_url: replace(stringRule(MAX_URL)),
  linkedin_url: replace(stringRule(MAX_URL)),
  twitter_url: replace(stringRule(MAX_URL)),
  google_url: replace(stringRule(MAX_URL)),
  assigned_to: replace(idRule),
  tags: { rule: tagsRule, cleared: [], kind: 'tags' },
  company_custom_id: { rule: stringRule(MAX_STRING), cleared: null, kind: 'membership' },
  company_id: { rule: idRule, cleared: null, kind: 'membership' },
}

/** Read-only user fields the widget fills (§2.9, §9.5): never set through the API, so null here. */
export const WIDGET_FIELDS = [
  'browser',
  'browser_language',
  'os_type',
  'resolution',
  'last_ip',
  'first_seen',
  'last_contacted',
  'most_active_time',
] as const

/**
 * Fields of the user object that a body may not write (§2.9: populated by the widget, site views or
 * User.com itself), and `user_id`, the v1 name of `custom_id` (§1.1).
 */
export const USER_READ_ONLY: ReadonlySet<string> = new Set([
  ...WIDGET_FIELDS,
  'id',
  'key',
  'user_key',
  'user_id',
  'name',
  'last_seen',
  'page_views',
  'companies',
  'attributes',
  'lists',
  'web_push_subscription',
  'chat_id',
  'created_at',
  'updated_at',
])

/** Writable standard company fields (§6 update-company body), besides `custom_id`. */
export const COMPANY_FIELDS: Readonly<Record<string, FieldSpec>> = {
  name: replace(stringRule(MAX_STRING)),
  description: replace(stringRule(MAX_DESCRIPTION)),
  email: replace(emailRule),
  size: replace(v =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? undefined
      : 'A valid non-negative integer is required.',
  ),
  phone_numbers: replace(
    v =>
      Array.isArray(v) && v.every(item => typeof item === 'string')
        ? undefined
        : 'Must be a list of strings.',
    [],
  ),
  address: replace(stringRule(MAX_STRING)),
  ...PLACE,
  postal_code: replace(stringRule(MAX_STRING)),
  assigned_to: replace(idRule),
  tags: { rule: tagsRule, cleared: [], kind: 'tags' },
}

/** Fields of the company object a body may not write (§6 responses). */
export const COMPANY_READ_ONLY: ReadonlySet<string> = new Set([
  'id',
  'company_id',
  'employees',
  'approx_employees',
  'user_custom_id',
  'category',
  'created_at',
  'updated_at',
])

/** Names a custom attribute of a content type may not take (its `name_std` would be a standard field). */
export const RESERVED_NAMES: Readonly<Record<string, ReadonlySet<string>>> = {
  clientuser: new Set(['custom_id', ...Object.keys(USER_FIELDS), ...USER_READ_ONLY]),
  company: new Set(['custom_id', ...Object.keys(COMPANY_FIELDS), ...COMPANY_READ_ONLY]),
}
