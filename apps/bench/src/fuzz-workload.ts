import { MAX_EVENT_BYTES } from '@ucd/segment'
import type { AttributeCatalog } from '@ucd/mapping'

// The fuzz section's events (issue 18): one long run of one character class in one field a client
// controls (a trait name, a trait value, a context value, an id, a date, ...), as long as the event
// stays within the 32 KB limit. A regular expression or a loop that is not linear in its input shows
// here as one slow event. Pure: the cases are built, not timed (scenarios/fuzz.ts times them).

/** Character classes, each a unit repeated into a run. */
export const FUZZ_CLASSES: readonly { name: string; unit: string }[] = [
  { name: 'capitals', unit: 'A' },
  { name: 'lowercase', unit: 'a' },
  { name: 'digits', unit: '7' },
  { name: 'underscores', unit: '_' },
  { name: 'dots', unit: '.' },
  { name: 'at signs', unit: '@' },
  { name: 'spaces', unit: ' ' },
  { name: 'dashes', unit: '-' },
  { name: 'accents (é)', unit: 'é' },
  { name: 'combining accents (e + ´)', unit: 'e\u0301' },
  { name: 'emoji', unit: '😀' },
  { name: 'camelCase (aB)', unit: 'aB' },
  { name: 'digit-dot (1.)', unit: '1.' },
  { name: 'capital-digit (A1)', unit: 'A1' },
]

type Raw = Record<string, unknown>
type Build = (run: string) => Raw

const identify = (traits: Raw, extra: Raw = {}): Raw => ({
  type: 'identify',
  userId: 'fuzz-user',
  traits,
  ...extra,
})
const group = (traits: Raw, extra: Raw = {}): Raw => ({
  type: 'group',
  userId: 'fuzz-user',
  groupId: 'fuzz-group',
  traits,
  ...extra,
})
const track = (extra: Raw): Raw => ({ type: 'track', userId: 'fuzz-user', event: 'Fuzzed', ...extra })
const page = (properties: Raw, extra: Raw = {}): Raw => ({
  type: 'page',
  userId: 'fuzz-user',
  properties,
  ...extra,
})

/** Where the run goes: a field name and the event that carries the run there. */
export const FUZZ_FIELDS: readonly { field: string; build: Build }[] = [
  // identify: names and values of traits, standard and custom, typed by the catalog below
  { field: 'identify traits.<name>', build: r => identify({ [r]: 'x' }) },
  { field: 'identify traits.<name> (value null)', build: r => identify({ [r]: null }) },
  { field: 'identify traits.custom (new attribute)', build: r => identify({ custom: r }) },
  { field: 'identify traits.email', build: r => identify({ email: r }) },
  { field: 'identify traits.email (local@run)', build: r => identify({ email: `x@${r}` }) },
  { field: 'identify traits.phone', build: r => identify({ phone: r }) },
  {
    field: 'identify traits.phone + address.country',
    build: r => identify({ phone: r, address: { country: r } }),
  },
  { field: 'identify traits.firstName', build: r => identify({ firstName: r }) },
  { field: 'identify traits.name', build: r => identify({ name: r }) },
  { field: 'identify traits.gender', build: r => identify({ gender: r }) },
  { field: 'identify traits.timezone', build: r => identify({ timezone: r }) },
  { field: 'identify traits.avatar', build: r => identify({ avatar: r }) },
  { field: 'identify traits.tags', build: r => identify({ tags: [r] }) },
  { field: 'identify traits.address.city', build: r => identify({ address: { city: r } }) },
  { field: 'identify traits.createdAt', build: r => identify({ createdAt: r }) },
  { field: 'identify traits.company.name', build: r => identify({ company: { name: r } }) },
  { field: 'identify traits.company.<name>', build: r => identify({ company: { id: 'c1', [r]: 1 } }) },
  { field: 'identify float attribute', build: r => identify({ fuzz_float: r }) },
  { field: 'identify integer attribute', build: r => identify({ fuzz_integer: r }) },
  { field: 'identify date attribute', build: r => identify({ fuzz_date: r }) },
  { field: 'identify datetime attribute', build: r => identify({ fuzz_datetime: r }) },
  { field: 'identify boolean attribute', build: r => identify({ fuzz_boolean: r }) },
  { field: 'identify json attribute', build: r => identify({ fuzz_json: r }) },
  { field: 'identify fixed attribute', build: r => identify({ fuzz_fixed: r }) },
  // identify: context
  { field: 'identify context.userAgent', build: r => identify({}, { context: { userAgent: r } }) },
  { field: 'identify context.locale', build: r => identify({}, { context: { locale: r } }) },
  { field: 'identify context.timezone', build: r => identify({}, { context: { timezone: r } }) },
  { field: 'identify context.ip', build: r => identify({}, { context: { ip: r } }) },
  { field: 'identify context.os.name', build: r => identify({}, { context: { os: { name: r } } }) },
  { field: 'identify context.device.model', build: r => identify({}, { context: { device: { model: r } } }) },
  { field: 'identify context.page.url', build: r => identify({}, { context: { page: { url: r } } }) },
  // group
  { field: 'group traits.<name>', build: r => group({ [r]: 'x' }) },
  { field: 'group traits.employees', build: r => group({ employees: r }) },
  { field: 'group traits.phone', build: r => group({ phone: r }) },
  { field: 'group traits.address.street', build: r => group({ address: { street: r } }) },
  { field: 'group traits.address (string)', build: r => group({ address: r }) },
  { field: 'group traits.name', build: r => group({ name: r }) },
  { field: 'group traits.email', build: r => group({ email: r }) },
  { field: 'group groupId', build: r => group({}, { groupId: r }) },
  // track, page, screen
  { field: 'track event', build: r => track({ event: r }) },
  { field: 'track properties.<name>', build: r => track({ properties: { [r]: 1 } }) },
  { field: 'track properties.value', build: r => track({ properties: { value: r } }) },
  { field: 'page properties.url', build: r => page({ url: r }) },
  { field: 'page properties.url (https://x.io/<run>)', build: r => page({ url: `https://x.io/${r}` }) },
  { field: 'page properties.path', build: r => page({ url: 'https://x.io/', path: r }) },
  { field: 'page properties.title', build: r => page({ url: 'https://x.io/', title: r }) },
  { field: 'page name (path only)', build: r => page({ path: '/a' }, { name: r }) },
  { field: 'screen name', build: r => ({ type: 'screen', userId: 'fuzz-user', name: r }) },
  // the normaliser: ids and dates
  { field: 'userId', build: r => track({ userId: r }) },
  { field: 'anonymousId', build: r => ({ type: 'track', anonymousId: r, event: 'Fuzzed' }) },
  { field: 'timestamp', build: r => track({ timestamp: r }) },
  { field: 'timestamp (2024-01-01<run>)', build: r => track({ timestamp: `2024-01-01${r}` }) },
  { field: 'sentAt + originalTimestamp', build: r => track({ sentAt: r, originalTimestamp: r }) },
  { field: 'receivedAt (forwarded)', build: r => track({ receivedAt: r }) },
  { field: 'type', build: r => ({ type: r, userId: 'fuzz-user' }) },
]

/** The catalog the fuzz events are planned with: typed attributes, so every conversion runs. */
export const FUZZ_CATALOG: AttributeCatalog = [
  ['fuzz_float', 'float'],
  ['fuzz_integer', 'integer'],
  ['fuzz_date', 'date'],
  ['fuzz_datetime', 'datetime'],
  ['fuzz_boolean', 'boolean'],
  ['fuzz_json', 'json'],
  ['fuzz_fixed', 'fixed'],
].map(([nameStd, valueType]) => ({
  contentType: 'clientuser' as const,
  name: nameStd as string,
  nameStd: nameStd as string,
  valueType: valueType as AttributeCatalog[number]['valueType'],
  ...(valueType === 'fixed' ? { choices: ['gold', 'silver'] } : {}),
}))

/**
 * A run as sent, and the same run ended by a character no pattern expects: a backtracking pattern is
 * slow on the input it fails to match (`7777…7!` is not a number), not on the one it matches.
 */
export const FUZZ_ENDINGS = ['', '!'] as const

export interface FuzzCase {
  /** The class, with ` + !` when the run ends with `!`. */
  charClass: string
  field: string
  /** Units in the run. */
  runLength: number
  /** JSON bytes of the raw event (at most MAX_EVENT_BYTES). */
  eventBytes: number
  raw: Raw
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8')

/**
 * The longest run of `unit` (then `ending`) that keeps `build(run)` within `maxBytes` of JSON (0 when
 * none fits).
 */
export function longestRun(
  build: (run: string) => Raw,
  unit: string,
  ending: string,
  maxBytes: number,
): number {
  let low = 0
  let high = Math.ceil(maxBytes / Math.max(1, Buffer.byteLength(unit, 'utf8')))
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (jsonBytes(build(unit.repeat(mid) + ending)) <= maxBytes) low = mid
    else high = mid - 1
  }
  return low
}

/** Every class × ending × field, each with the longest run that fits in one event of `maxBytes`. */
export function fuzzCases(maxBytes = MAX_EVENT_BYTES): FuzzCase[] {
  const cases: FuzzCase[] = []
  let sequence = 0
  for (const { name, unit } of FUZZ_CLASSES) {
    for (const ending of FUZZ_ENDINGS) {
      for (const { field, build } of FUZZ_FIELDS) {
        sequence += 1
        const messageId = `fuzz-${String(sequence).padStart(5, '0')}`
        const withId = (run: string): Raw => ({ messageId, ...build(run) })
        const runLength = longestRun(withId, unit, ending, maxBytes)
        const raw = withId(unit.repeat(runLength) + ending)
        const charClass = ending === '' ? name : `${name} + ${ending}`
        cases.push({ charClass, field, runLength, eventBytes: jsonBytes(raw), raw })
      }
    }
  }
  return cases
}
