import { alpha3ToAlpha2, getNames, registerLocale } from 'i18n-iso-countries/index'
import english from 'i18n-iso-countries/langs/en.json'

// Country names and codes as people write them (`US`, `USA`, `United States`, `Côte d'Ivoire`) →
// the ISO 3166-1 alpha-2 code, from a maintained list (i18n-iso-countries, English names and their
// common aliases only: its package entry point would load every one of its 80 languages).

registerLocale(english)

/** No English country name is longer (the longest is 44 characters); longer text is not looked up. */
const MAX_COUNTRY_TEXT_LENGTH = 60

/** Case and accents ignored, as the library's own "simple" lookup does (`cote d'ivoire`). */
function simplified(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
}

/**
 * Every English name and alias → its alpha-2 code, built once: the library's own name lookup
 * compares with all 250 countries on every call (0.5 ms), this is one map read.
 */
const BY_NAME: ReadonlyMap<string, string> = (() => {
  const byName = new Map<string, string>()
  for (const [code, names] of Object.entries(getNames('en', { select: 'all' }))) {
    for (const name of names) if (!byName.has(simplified(name))) byName.set(simplified(name), code)
  }
  return byName
})()

/**
 * The alpha-2 code of a country written as an alpha-2 code (any case), an alpha-3 code (`USA`,
 * `pol`) or an English name or alias (`United States`, `United Kingdom`, `UK`; case and accents
 * ignored), or undefined.
 */
export function countryCodeOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (text === '' || text.length > MAX_COUNTRY_TEXT_LENGTH) return undefined
  const upper = text.toUpperCase()
  if (upper.length === 2 && upper in english.countries) return upper
  if (upper.length === 3) {
    const fromAlpha3 = alpha3ToAlpha2(upper)
    if (fromAlpha3 !== undefined) return fromAlpha3
  }
  return BY_NAME.get(simplified(text))
}
