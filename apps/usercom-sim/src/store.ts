import type { FieldSpec } from './fields'
import type { Prng } from './prng'
import type { Problems } from './results'
import type {
  SimAppState,
  SimAttribute,
  SimCompany,
  SimEvent,
  SimMerge,
  SimPageView,
  SimTotals,
  SimUser,
} from './schema'
import { attributeValueProblem } from './values'

// One app (tenant) of the simulated User.com: its users, companies, events, page views, attribute
// catalog and merges, and the checks every entity shares. The handlers of each entity live in
// users.ts, companies.ts, attributes.ts, events.ts, site-views.ts and merge.ts.

const KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

export class AppData {
  readonly users = new Map<number, SimUser>()
  readonly usersByCustomId = new Map<string, SimUser>()
  readonly usersByKey = new Map<string, SimUser>()
  readonly companies = new Map<number, SimCompany>()
  readonly companiesByCustomId = new Map<string, SimCompany>()
  readonly attributes: SimAttribute[] = []
  readonly events: SimEvent[] = []
  readonly eventDefinitions = new Map<string, { properties: Set<string>; occurrences: number }>()
  readonly pageViews: SimPageView[] = []
  readonly merges: SimMerge[] = []
  readonly nextId = { user: 1, company: 1, event: 1, attribute: 1, pageView: 1 }
  readonly counted = { events: 0, pageViews: 0, merges: 0 }

  constructor(
    readonly name: string,
    private readonly prng: Prng,
    private readonly clock: () => number = Date.now,
    private readonly maxStoredRecords: number = 100_000,
  ) {}

  /** Appends, forgetting the oldest entries beyond the bound (in chunks, so it stays O(1) amortised). */
  keep<T>(list: T[], item: T): void {
    list.push(item)
    if (list.length > this.maxStoredRecords + Math.ceil(this.maxStoredRecords / 10)) {
      list.splice(0, list.length - this.maxStoredRecords)
    }
  }

  now(): number {
    return this.clock()
  }

  nowIso(): string {
    return new Date(this.clock()).toISOString()
  }

  attribute(contentType: string, nameStd: string): SimAttribute | undefined {
    return this.attributes.find(a => a.content_type === contentType && a.name_std === nameStd)
  }

  newUserKey(): string {
    for (;;) {
      let key = ''
      for (let i = 0; i < 12; i += 1) key += KEY_ALPHABET[this.prng.int(KEY_ALPHABET.length)]
      if (!this.usersByKey.has(key)) return key
    }
  }

  /** Makes `user` a member of `company`; false when it already was. */
  join(company: SimCompany, user: SimUser, memberSince: string): boolean {
    if (company.members.includes(user.id)) return false
    company.members.push(user.id)
    user.companies.push({ id: company.id, name: company.name, member_since: memberSince })
    return true
  }

  /**
   * Checks every key of a user or company body: `custom_id` is left to the caller, a standard field
   * by its rule (`null` always passes: it clears), a read-only field is refused, any other key must
   * be a custom attribute of `contentType` and is checked against its type. Returns the custom
   * attribute values; every problem goes to `errors`, keyed by the field.
   */
  checkBody(
    contentType: 'clientuser' | 'company',
    body: Record<string, unknown>,
    standard: Readonly<Record<string, FieldSpec>>,
    readOnly: ReadonlySet<string>,
    errors: Problems,
  ): Record<string, unknown> {
    const values: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(body)) {
      if (key === 'custom_id') continue
      const spec = standard[key]
      if (spec !== undefined) {
        const problem = value === null ? undefined : spec.rule(value)
        if (problem) errors.add(key, problem)
        continue
      }
      if (readOnly.has(key)) {
        errors.add(key, `"${key}" is a read-only field: it cannot be set through the API.`)
        continue
      }
      const attribute = this.attribute(contentType, key)
      if (!attribute) {
        errors.add(key, `Attribute "${key}" does not exist. Create it first (POST /attributes/).`)
        continue
      }
      const problem = attributeValueProblem(attribute, value)
      if (problem) errors.add(key, problem)
      else values[key] = value
    }
    return values
  }

  /** Writes the standard `value` fields of `body` onto `record` (`null` → the field's cleared value). */
  applyStandard(
    record: Record<string, unknown>,
    body: Record<string, unknown>,
    standard: Readonly<Record<string, FieldSpec>>,
  ): void {
    for (const [key, spec] of Object.entries(standard)) {
      if (!(key in body)) continue
      const value = body[key]
      if (spec.kind === 'value') record[key] = value === null ? spec.cleared : value
      else if (spec.kind === 'tags') {
        const tags = record[key] as string[]
        if (value === null) tags.length = 0
        else for (const tag of value as string[]) if (!tags.includes(tag)) tags.push(tag)
      }
    }
  }

  totals(): SimTotals {
    return {
      users: this.users.size,
      companies: this.companies.size,
      events: this.counted.events,
      pageViews: this.counted.pageViews,
      attributes: this.attributes.length,
      merges: this.counted.merges,
    }
  }

  snapshot(requests: SimAppState['requests']): SimAppState {
    const copy = <T>(value: T): T => structuredClone(value)
    return {
      totals: this.totals(),
      users: [...this.users.values()].map(copy),
      companies: [...this.companies.values()].map(copy),
      events: this.events.map(copy),
      eventDefinitions: [...this.eventDefinitions.entries()].map(([name, d]) => ({
        name,
        properties: [...d.properties].sort(),
        occurrences: d.occurrences,
      })),
      pageViews: this.pageViews.map(copy),
      attributes: this.attributes.map(copy),
      merges: this.merges.map(copy),
      requests: copy(requests),
    }
  }
}
