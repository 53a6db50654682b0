import { applyAttributes, sortTraits } from './attributes'
import { countryHintOf, toE164 } from './phone'
import { emailOf, isObject, pick, textOf } from './util'
import { convertValue } from './values'
import type { AttributeInput, EntityMapping } from './attributes'
import type { AttributeCatalog, Dropped } from './operations'
import type { JsonObject } from './util'

// group: traits → the body of POST /companies/ and PUT /companies-by-id/:custom_id/ (WIRE.md),
// plus the company attributes to create first. Semantic traits (the destination doc): address,
// description, email, employees, name, phone; the rest are company custom attributes.

/** Fields of the User.com company itself: a custom attribute may not be called like one of these. */
export const COMPANY_FIELDS: ReadonlySet<string> = new Set([
  'custom_id',
  'name',
  'description',
  'email',
  'size',
  'phone_numbers',
  'address',
  'city',
  'region',
  'country',
  'postal_code',
  'tags',
  'id',
  'company_id',
  'user_custom_id',
  'employees',
  'approx_employees',
  'assigned_to',
  'category',
  'created_at',
  'updated_at',
])

type Standard =
  | 'name'
  | 'description'
  | 'email'
  | 'size'
  | 'phone'
  | 'address'
  | 'city'
  | 'region'
  | 'country'
  | 'postal_code'

const STANDARD_TRAITS = new Map<string, Standard>([
  ['name', 'name'],
  ['description', 'description'],
  ['email', 'email'],
  ['employees', 'size'],
  ['size', 'size'],
  ['phone', 'phone'],
  ['phonenumbers', 'phone'],
  ['address', 'address'],
  ['city', 'city'],
  ['region', 'region'],
  ['country', 'country'],
  ['postalcode', 'postal_code'],
])

const ADDRESS_STREET = ['street', 'street1', 'line1', 'address1']
const ADDRESS_STREET2 = ['street2', 'line2', 'address2']
const ADDRESS_POSTAL = ['postalcode', 'zip', 'zipcode']
const ADDRESS_REGION = ['state', 'region', 'province']

/** `420`, `"420"`, `"1,000"`, `"1 000"` → an employee count; anything else undefined. */
export function toSize(value: unknown): number | undefined {
  const cleaned = typeof value === 'string' ? value.trim().replace(/[\s,_']/g, '') : value
  const converted = convertValue(cleaned, 'integer')
  return converted.ok && typeof converted.value === 'number' && converted.value >= 0
    ? converted.value
    : undefined
}

/** One-line readable address: `6th St, San Francisco, CA 94103, USA`. */
export function formatAddress(address: JsonObject): {
  line?: string
  city?: string
  region?: string
  country?: string
  postalCode?: string
} {
  const street = [textOf(pick(address, ...ADDRESS_STREET)), textOf(pick(address, ...ADDRESS_STREET2))]
    .filter((part): part is string => part !== undefined)
    .join(' ')
  const city = textOf(pick(address, 'city'))
  const region = textOf(pick(address, ...ADDRESS_REGION))
  const postalCode = textOf(pick(address, ...ADDRESS_POSTAL))
  const country = textOf(pick(address, 'country'))
  const regionPostal = [region, postalCode].filter(part => part !== undefined).join(' ')
  const parts = [street, city, regionPostal, country].filter(
    (part): part is string => part !== undefined && part !== '',
  )
  const result: ReturnType<typeof formatAddress> = {}
  if (parts.length > 0) result.line = parts.join(', ')
  if (city !== undefined) result.city = city
  if (region !== undefined) result.region = region
  if (country !== undefined) result.country = country
  if (postalCode !== undefined) result.postalCode = postalCode
  return result
}

function toPhoneNumbers(value: unknown, country: ReturnType<typeof countryHintOf>): string[] | undefined {
  const items = Array.isArray(value) ? value : [value]
  const numbers = items
    .map(item => toE164(item, country) ?? textOf(item))
    .filter((n): n is string => n !== undefined)
  return numbers.length === 0 ? undefined : [...new Set(numbers)]
}

/** group traits → company body (no `custom_id`: that is the operation's companyCustomId). */
export function mapGroup(traits: JsonObject, catalog: AttributeCatalog, dropped: Dropped[]): EntityMapping {
  const countryHint = countryHintOf(traits)
  const standard: JsonObject = {}
  const fromAddress: JsonObject = {}
  const custom: AttributeInput[] = []

  const set = (field: string, target: string, value: unknown, what: string): void => {
    if (value === undefined) dropped.push({ field, reason: `not ${what} (${target})` })
    else standard[target] = value
  }

  sortTraits(traits, STANDARD_TRAITS, COMPANY_FIELDS, { custom, dropped }, (kind, field, value) => {
    switch (kind) {
      case 'size':
        set(field, 'size', toSize(value), 'a number of employees')
        break
      case 'phone':
        set(field, 'phone_numbers', toPhoneNumbers(value, countryHint), 'a phone number')
        break
      case 'address':
        if (isObject(value)) {
          const formatted = formatAddress(value)
          set(
            field,
            'address',
            formatted.line,
            'an address with any of street, city, state, postal code, country',
          )
          if (formatted.city !== undefined) fromAddress.city = formatted.city
          if (formatted.region !== undefined) fromAddress.region = formatted.region
          if (formatted.country !== undefined) fromAddress.country = formatted.country
          if (formatted.postalCode !== undefined) fromAddress.postal_code = formatted.postalCode
        } else {
          set(field, 'address', textOf(value), 'an address')
        }
        break
      case 'email':
        set(field, 'email', emailOf(value), 'an email address')
        break
      default:
        set(field, kind, textOf(value), 'a non-empty string')
    }
  })
  for (const [target, value] of Object.entries(fromAddress)) standard[target] ??= value

  const applied = applyAttributes(custom, 'company', catalog, dropped)
  return { ensure: applied.ensure, body: { ...standard, ...applied.values } }
}
