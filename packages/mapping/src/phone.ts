import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js'
import type { CountryCode } from 'libphonenumber-js'
import { countryCodeOf } from './country'
import { isObject, pick } from './util'
import type { JsonObject } from './util'

// Phone numbers. User.com accepts only E.164 (`+48123456789`, usercom-api.md §2.9).

/** The country a phone number written without `+` is read in: `us`, `USA`, `United States` → `US`. */
export function phoneCountry(value: unknown): CountryCode | undefined {
  const code = countryCodeOf(value)
  return code !== undefined && isSupportedCountry(code) ? code : undefined
}

/** The country to read phone numbers in: traits' `country`, else `address.country`, when known. */
export function countryHintOf(traits: JsonObject): CountryCode | undefined {
  const address = pick(traits, 'address')
  return (
    phoneCountry(pick(traits, 'country')) ??
    (isObject(address) ? phoneCountry(pick(address, 'country')) : undefined)
  )
}

/**
 * The E.164 form of a phone number, or undefined when it is not a valid number. Numbers written
 * without a `+` are read in `defaultCountry` when one is known; `00` is read as `+`.
 */
export function toE164(value: unknown, defaultCountry?: CountryCode): string | undefined {
  let text: string
  if (typeof value === 'string') text = value.trim()
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) text = String(value)
  else return undefined
  if (text === '' || text.length > 64) return undefined
  if (text.startsWith('00')) text = `+${text.slice(2)}`
  try {
    const parsed =
      defaultCountry === undefined
        ? parsePhoneNumberFromString(text)
        : parsePhoneNumberFromString(text, defaultCountry)
    return parsed?.isValid() === true ? parsed.number : undefined
  } catch (_error) {
    return undefined
  }
}
