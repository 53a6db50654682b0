import { describe, expect, it } from '@jest/globals'
import { SegmentEventSchema } from '@ucd/segment'
import fc from 'fast-check'
import {
  ATTRIBUTE_VALUE_TYPES,
  COMPANY_FIELDS,
  MAX_STRING_VALUE_LENGTH,
  PlanSchema,
  USER_FIELDS,
  planEvent,
  toNameStd,
} from '../index'
import type { AttributeCatalog, AttributeDef, Plan, PlanOptions } from '../index'
import type { SegmentEvent } from '@ucd/segment'

// For any schema-valid event and any catalog, the planner never throws, its plan passes PlanSchema,
// is plain JSON, is the same every time, and keeps the wire rules (packages/usercom-client/WIRE.md) whatever came in.

const KNOWN_KEYS = [
  'email',
  'firstName',
  'first_name',
  'First Name',
  'lastName',
  'last_name',
  'name',
  'phone',
  'phoneNumber',
  'gender',
  'address',
  'city',
  'region',
  'country',
  'timezone',
  'avatar',
  'tags',
  'status',
  'score',
  'unsubscribed',
  'id',
  'createdAt',
  'created_at',
  'custom_id',
  'user_key',
  'plan',
  'Plan',
  'total billed',
  'custom_integer',
  'custom_integer_new',
  'order_completed_last_30days',
  'employees',
  'description',
  'industry',
  'size',
  'postal_code',
  'company',
  'employee_count',
  'Order Completed Last 30days High Value Customers',
  'screen_resolution',
  '名前',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'a'.repeat(40),
]

const key = fc.oneof(
  fc.constantFrom(...KNOWN_KEYS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
)

const oddNumber = fc.constantFrom(
  1e21,
  -1e21,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -0,
  0.1 + 0.2,
  1426967129,
  1426967129123,
)
const oddString = fc.constantFrom(
  '+48 512 345 678',
  '(415) 555-2671',
  '0048512345678',
  'male',
  'F',
  'unknown',
  '2015-2-02T00:30:08.276Z',
  '2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264',
  '2020-02-30',
  'true',
  'No',
  '123',
  '12.5',
  '1,000',
  '{"a":1}',
  '[1,2]',
  'x'.repeat(300),
  'y'.repeat(2100),
  `https://example.com/${'p'.repeat(2100)}`,
  'United States',
  'USA',
  'other',
  `${'x'.repeat(254)}😀`,
  'https://user:pw@example.com:8080/p?q=1#f',
)
const scalar = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  oddNumber,
  oddString,
)
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(key, scalar, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
)
const bag = fc.dictionary(key, value, { maxKeys: 10 })

const url = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom(
    '/relative',
    'not a url',
    'android-app://x/y',
    '',
    'http://[::1]:80/x',
    '//other.host/x',
    `https://example.com/${'p'.repeat(2100)}`,
  ),
  fc.string(),
)
const userAgent = fc.oneof(
  fc.constantFrom(
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
    'analytics-node-next/latest',
  ),
  fc.string({ maxLength: 400 }),
)
const context = fc
  .record(
    {
      userAgent: fc.oneof(userAgent, value),
      ip: value,
      locale: value,
      timezone: value,
      page: fc.oneof(
        fc.record({ url, path: value, search: value, title: value, referrer: value }, { requiredKeys: [] }),
        value,
      ),
      screen: fc.oneof(fc.record({ width: fc.integer(), height: value }, { requiredKeys: [] }), value),
      os: fc.oneof(fc.record({ name: value, version: value }, { requiredKeys: [] }), value),
      device: fc.oneof(fc.record({ name: value, model: value, manufacturer: value, type: value }), value),
      extra: bag,
    },
    { requiredKeys: [] },
  )
  .map(c => c as Record<string, unknown>)

const pageProperties = fc
  .tuple(
    fc.record({ url, path: value, title: value, referrer: value, search: value }, { requiredKeys: [] }),
    bag,
  )
  .map(([known, rest]) => ({ ...rest, ...known }))

const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })
const iso = fc
  .date({
    min: new Date('0001-01-01T00:00:00.000Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map(d => d.toISOString())
const ids = fc.oneof(
  fc.record({ userId: text }),
  fc.record({ anonymousId: text }),
  fc.record({ userId: text, anonymousId: text }),
)

const raw = fc.oneof(
  fc.record({ type: fc.constant('identify'), traits: bag }),
  fc.record({ type: fc.constant('track'), event: text, properties: bag }),
  fc.record({
    type: fc.constant('page'),
    name: fc.option(text, { nil: undefined }),
    properties: pageProperties,
  }),
  fc.record({ type: fc.constant('screen'), name: fc.option(text, { nil: undefined }), properties: bag }),
  fc.record({ type: fc.constant('group'), groupId: text, traits: bag }),
  fc.record({ type: fc.constant('alias'), previousId: text }),
)

const segmentEvent: fc.Arbitrary<SegmentEvent> = fc
  .tuple(raw, ids, context, bag, fc.string({ minLength: 1, maxLength: 100 }), iso, iso)
  .map(([specific, identity, ctx, integrations, messageId, timestamp, receivedAt]) =>
    SegmentEventSchema.safeParse({
      ...specific,
      ...identity,
      messageId,
      timestamp,
      receivedAt,
      context: ctx,
      integrations,
    }),
  )
  .filter(result => result.success)
  .map(result => result.data)

const catalog: fc.Arbitrary<AttributeCatalog> = fc.array(
  fc
    .record({
      contentType: fc.constantFrom('clientuser' as const, 'company' as const),
      name: fc.string({ maxLength: 32 }),
      nameStd: fc.oneof(
        key.map(toNameStd),
        fc.constantFrom('phone', 'user_agent', 'ip_address', 'resolution', 'os', 'browser_version', 'email'),
      ),
      valueType: fc.constantFrom(...ATTRIBUTE_VALUE_TYPES),
      choices: fc.option(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), { nil: undefined }),
    })
    .map(def => {
      const { choices, ...rest } = def
      return (choices === undefined ? rest : { ...rest, choices }) satisfies AttributeDef
    }),
  { maxLength: 12 },
)

/** Plain JSON all the way down: no undefined, no non-finite number, no class instance. */
function assertPlainJson(value: unknown, path = 'plan'): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}`)
    return
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertPlainJson(item, `${path}[${i}]`))
    return
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) throw new Error(`${path} is not a plain object`)
    for (const [k, v] of Object.entries(value)) assertPlainJson(v, `${path}.${k}`)
    return
  }
  throw new Error(`${path} is a ${typeof value}`)
}

function checkWireRules(event: SegmentEvent, defs: AttributeCatalog, plan: Plan): void {
  expect(plan.customId).toBe(event.userId ?? event.anonymousId)
  const keys = plan.steps.map(s => s.key)
  expect(new Set(keys).size).toBe(keys.length)
  const ensured = new Set<string>()
  for (const s of plan.steps) {
    if (s.op === 'ensure_attribute') {
      expect(s.name.length).toBeGreaterThanOrEqual(1)
      expect(s.name.length).toBeLessThanOrEqual(32)
      expect(toNameStd(s.name)).toBe(s.nameStd)
      expect(s.key).toBe(`attribute:${s.contentType}:${s.nameStd}`)
      ensured.add(`${s.contentType}:${s.nameStd}`)
    }
  }
  const defined = (contentType: string, nameStd: string) =>
    defs.some(d => d.contentType === contentType && d.nameStd === nameStd)
  const within = (value: unknown, max: number): boolean =>
    value === null || (typeof value === 'string' && value.length <= max)
  for (const s of plan.steps) {
    if (s.op === 'upsert_user') {
      const { body } = s
      expect(body.custom_id).toBe(plan.customId)
      // The wire contract's limits (apps/usercom-sim "Rules it enforces"); null clears these fields.
      for (const name of ['first_name', 'last_name'])
        if (body[name] !== undefined) expect(within(body[name], 40)).toBe(true)
      for (const name of ['city', 'region', 'country', 'timezone'])
        if (body[name] !== undefined) expect(within(body[name], 255)).toBe(true)
      for (const name of ['gravatar_url', 'facebook_url', 'linkedin_url', 'twitter_url', 'google_url'])
        if (body[name] !== undefined) expect(within(body[name], 2000)).toBe(true)
      if (body.phone_number !== undefined && body.phone_number !== null)
        expect(body.phone_number).toMatch(/^\+\d{4,15}$/)
      if (body.gender !== undefined) expect([1, 2, 3]).toContain(body.gender)
      if (body.tags !== undefined)
        for (const tag of body.tags as unknown[])
          expect(typeof tag === 'string' && tag.length > 0 && tag.length <= 255).toBe(true)
      for (const [name, v] of Object.entries(body)) {
        if (USER_FIELDS.has(name)) continue
        expect(defined('clientuser', name) || ensured.has(`clientuser:${name}`)).toBe(true)
        if (!defined('clientuser', name)) {
          expect(typeof v).toBe('string')
          expect((v as string).length).toBeLessThanOrEqual(MAX_STRING_VALUE_LENGTH)
        }
      }
    }
    if (s.op === 'upsert_company') {
      const { body } = s
      if (body.size !== undefined && body.size !== null)
        expect(Number.isSafeInteger(body.size) && (body.size as number) >= 0).toBe(true)
      for (const name of ['name', 'description', 'address', 'city', 'region', 'country', 'postal_code'])
        if (body[name] !== undefined) expect(within(body[name], 255)).toBe(true)
      if (body.phone_numbers !== undefined)
        expect((body.phone_numbers as unknown[]).every(n => typeof n === 'string')).toBe(true)
      for (const name of Object.keys(body)) {
        if (COMPANY_FIELDS.has(name)) continue
        expect(defined('company', name) || ensured.has(`company:${name}`)).toBe(true)
      }
    }
    if (s.op === 'create_event') {
      expect(Number.isSafeInteger(s.body.timestamp)).toBe(true)
      expect(s.body.name.length).toBeGreaterThan(0)
      expect(s.body.name.length).toBeLessThanOrEqual(255)
    }
    if (s.op === 'create_page_view') {
      expect(new URL(s.body.page_domain).origin).toBe(s.body.page_domain)
      expect(s.body.page_path.startsWith('/')).toBe(true)
      expect(s.body.page_path.length).toBeLessThanOrEqual(2000)
      if (s.body.referrer !== undefined) expect(s.body.referrer.length).toBeLessThanOrEqual(2000)
      expect(s.body.timestamp).toBe(event.timestamp)
    }
  }
}

const options: fc.Arbitrary<PlanOptions> = fc.record(
  {
    pageDomain: fc.constantFrom('https://www.example.com', 'http://localhost:8080'),
    screens: fc.constantFrom('off' as const, 'event' as const),
  },
  { requiredKeys: [] },
)

describe('planEvent, for any schema-valid event and catalog (fast-check)', () => {
  it('never throws; the plan passes PlanSchema, is plain JSON, deterministic, and keeps the wire rules', () => {
    fc.assert(
      fc.property(segmentEvent, catalog, options, (event, defs, opts) => {
        const before = JSON.stringify([event, defs])
        const plan = planEvent(event, defs, opts)
        expect(PlanSchema.safeParse(plan).success).toBe(true)
        assertPlainJson(plan)
        const json = JSON.stringify(plan)
        expect(JSON.stringify(JSON.parse(json))).toBe(json)
        // Same input (even a copy of it) → same plan; the input is left as it was.
        const again = planEvent(structuredClone(event), structuredClone(defs), structuredClone(opts))
        expect(JSON.stringify(again)).toBe(json)
        expect(again).toEqual(plan)
        expect(JSON.stringify([event, defs])).toBe(before)
        checkWireRules(event, defs, plan)
      }),
      { numRuns: 400 },
    )
  })
})
