import { applyAttributes, sortTraits } from './attributes'
import { mapContext } from './context'
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH, cutText } from './limits'
import { countryHintOf } from './phone'
import { STANDARD_TRAITS, mapStandard } from './user-traits'
import { timezoneOf } from './util'
import type { EntityMapping } from './attributes'
import type { AttributeCatalog, Dropped } from './operations'
import type { CompanyTrait, UserTraits } from './user-traits'
import type { JsonObject } from './util'

// identify: traits and context → the body of POST /users/update_or_create/ (packages/usercom-client/WIRE.md), plus the
// custom attributes to create first and the company of `traits.company`. The mapping table is in
// this package's README.

/** Fields of the User.com user itself: a custom attribute may not be called like one of these. */
export const USER_FIELDS: ReadonlySet<string> = new Set([
  // writable standard fields (packages/usercom-client/WIRE.md)
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
  'assigned_to',
  // read-only fields of the user object (usercom-api.md §2.8, §2.9: not in the "Allowed attributes"
  // list), some filled by User.com's own widget from the browser (`browser`, `resolution`, ...)
  'browser',
  'browser_language',
  'os_type',
  'resolution',
  'last_ip',
  'most_active_time',
  'last_contacted',
  'web_push_subscription',
  'chat_id',
  'id',
  'key',
  'user_key',
  'user_id',
  'name',
  'company_id',
  'companies',
  'attributes',
  'lists',
  'page_views',
  'first_seen',
  'last_seen',
  'created_at',
  'updated_at',
])

/** identify's result: the user body and its attributes, and the company of `traits.company`. */
export interface UserMapping extends EntityMapping {
  company?: CompanyTrait
}

/**
 * identify → `{ custom_id, ...standard fields, ...custom attributes by name_std }`, the attributes
 * to create first, and `traits.company` (planned after the user). Traits win over context; a trait
 * that cannot be used is in `dropped`.
 */
export function mapIdentify(
  customId: string,
  traits: JsonObject,
  context: JsonObject,
  catalog: AttributeCatalog,
  dropped: Dropped[],
): UserMapping {
  const out: UserTraits = {
    standard: {},
    custom: [],
    dropped,
    countryHint: countryHintOf(traits),
    fromAddress: new Map(),
  }
  sortTraits(traits, STANDARD_TRAITS, USER_FIELDS, out, (kind, field, value) =>
    mapStandard(out, kind, field, value),
  )
  const { standard } = out

  // address.city/state/country fill what top-level traits did not set (a null there clears).
  for (const [target, { field, value }] of out.fromAddress) {
    if (target in standard) continue
    standard[target] = value === null ? null : cutText(value, MAX_TEXT_LENGTH, field, target, dropped)
  }
  // `name` gives first and last name when neither was sent ("Peter Gibbons" → Peter / Gibbons).
  if (out.name !== undefined && !('first_name' in standard) && !('last_name' in standard)) {
    const { field, value } = out.name
    if (value === null) {
      standard.first_name = null
      standard.last_name = null
    } else {
      const [first = '', ...rest] = value.split(/\s+/)
      standard.first_name = cutText(first, MAX_NAME_LENGTH, field, 'first_name', dropped)
      if (rest.length > 0)
        standard.last_name = cutText(rest.join(' '), MAX_NAME_LENGTH, field, 'last_name', dropped)
    }
  }

  const fromContext = mapContext(context)
  if (!('timezone' in standard) && fromContext.timezone !== undefined) {
    const timezone = timezoneOf(fromContext.timezone)
    if (timezone === undefined)
      dropped.push({ field: 'context.timezone', reason: 'not a time zone name (timezone)' })
    else standard.timezone = timezone
  }
  const fromTraits = new Set(out.custom.map(input => input.nameStd))
  const inputs = [...out.custom, ...fromContext.attributes.filter(input => !fromTraits.has(input.nameStd))]
  const applied = applyAttributes(inputs, 'clientuser', catalog, dropped)
  return {
    ensure: applied.ensure,
    body: { custom_id: customId, ...standard, ...applied.values },
    ...(out.company === undefined ? {} : { company: out.company }),
  }
}
