import { applyAttributes, sortTraits } from './attributes'
import { MAX_TEXT_LENGTH, cutText } from './limits'
import { traitKey } from './names'
import { countryHintOf, toE164 } from './phone'
import { emailOf, isObject, pick, textOf } from './util'
import { convertValue } from './values'
import type { AttributeInput, EntityMapping } from './attributes'
import type { AttributeCatalog, Dropped } from './operations'
import type { CompanyTrait } from './user-traits'
import type { JsonObject } from './util'

// group (and identify's `traits.company`): traits → the body of POST /companies/ and
// PUT /companies-by-id/:custom_id/ (packages/usercom-client/WIRE.md), plus the company attributes to create first. Semantic
// traits (the destination doc): address, description, email, employees, name, phone; the rest are
// company custom attributes. A semantic trait sent as null clears its field (segment-spec.md §4.2).

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
  ['employeecount', 'size'],
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

/** Company fields a text limit applies to (all of them: MAX_TEXT_LENGTH). */
type TextField = 'name' | 'description' | 'address' | 'city' | 'region' | 'country' | 'postal_code'

/** group traits → company body (no `custom_id`: that is the operation's companyCustomId). */
export function mapGroup(
  traits: JsonObject,
  catalog: AttributeCatalog,
  dropped: Dropped[],
  prefix = 'traits.',
): EntityMapping {
  const countryHint = countryHintOf(traits)
  const standard: JsonObject = {}
  const fromAddress = new Map<TextField, { field: string; value: string | null }>()
  const custom: AttributeInput[] = []

  const set = (field: string, target: string, value: unknown, what: string): void => {
    if (value === undefined) dropped.push({ field, reason: `not ${what} (${target})` })
    else standard[target] = value
  }
  const setText = (field: string, target: TextField, value: string | null | undefined, what: string): void =>
    set(
      field,
      target,
      typeof value === 'string' ? cutText(value, MAX_TEXT_LENGTH, field, target, dropped) : value,
      what,
    )

  sortTraits(
    traits,
    STANDARD_TRAITS,
    COMPANY_FIELDS,
    { custom, dropped },
    (kind, field, value) => {
      if (value === null) {
        // Clears the field; phone_numbers is a list, cleared by an empty one; address clears its parts.
        standard[kind === 'phone' ? 'phone_numbers' : kind] = kind === 'phone' ? [] : null
        if (kind === 'address')
          for (const part of ['city', 'region', 'country', 'postal_code'] as const)
            fromAddress.set(part, { field, value: null })
        return
      }
      switch (kind) {
        case 'size':
          return set(field, 'size', toSize(value), 'a number of employees')
        case 'phone':
          return set(field, 'phone_numbers', toPhoneNumbers(value, countryHint), 'a phone number')
        case 'address': {
          if (!isObject(value)) return setText(field, 'address', textOf(value), 'an address')
          const formatted = formatAddress(value)
          setText(
            field,
            'address',
            formatted.line,
            'an address with any of street, city, state, postal code, country',
          )
          const parts: [TextField, string | undefined][] = [
            ['city', formatted.city],
            ['region', formatted.region],
            ['country', formatted.country],
            ['postal_code', formatted.postalCode],
          ]
          for (const [target, text] of parts)
            if (text !== undefined) fromAddress.set(target, { field: `${field}.${target}`, value: text })
          return
        }
        case 'email':
          return set(field, 'email', emailOf(value), 'an email address')
        default:
          return setText(field, kind, textOf(value), 'a non-empty string')
      }
    },
    prefix,
  )
  for (const [target, { field, value }] of fromAddress) {
    if (target in standard) continue
    standard[target] = value === null ? null : cutText(value, MAX_TEXT_LENGTH, field, target, dropped)
  }

  const applied = applyAttributes(custom, 'company', catalog, dropped)
  return { ensure: applied.ensure, body: { ...standard, ...applied.values } }
}

/** identify's `traits.company`, as the company to upsert and make the user a member of. */
export interface CompanyOfUser extends EntityMapping {
  companyCustomId: string
}

/**
 * identify's reserved `traits.company` (segment-spec.md §4.1: `id`, `name`, `industry`,
 * `employee_count`, `plan`) → the company it names, mapped like a group call's traits: its custom id
 * is `id`, else its name (cut to 255 characters). A plain name (`"company": "Initech"`) is a company
 * of that name. Undefined, reported, when there is neither.
 */
export function mapCompanyOfUser(
  trait: CompanyTrait,
  catalog: AttributeCatalog,
  dropped: Dropped[],
): CompanyOfUser | undefined {
  const { field, value } = trait
  const named = textOf(value)
  if (named !== undefined) {
    const name = cutText(named, MAX_TEXT_LENGTH, field, 'name', dropped)
    return { companyCustomId: name, ensure: [], body: { name } }
  }
  if (!isObject(value)) {
    dropped.push({ field, reason: 'company must be an object (id, name, ...) or a company name' })
    return undefined
  }
  let id: string | undefined
  const traits: JsonObject = {}
  for (const [key, item] of Object.entries(value)) {
    if (traitKey(key) !== 'id') traits[key] = item
    else if (id === undefined && textOf(item) !== undefined) id = textOf(item)
    else
      dropped.push({ field: `${field}.${key}`, reason: 'not used for the company id (a string or a number)' })
  }
  const name = textOf(pick(traits, 'name'))
  const companyCustomId =
    id ??
    (name === undefined
      ? undefined
      : cutText(name, MAX_TEXT_LENGTH, `${field}.name`, 'the company custom id', []))
  if (companyCustomId === undefined) {
    dropped.push({ field, reason: 'a company needs an id or a name to be found in User.com' })
    return undefined
  }
  return { companyCustomId, ...mapGroup(traits, catalog, dropped, `${field}.`) }
}
