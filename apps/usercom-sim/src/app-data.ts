import { toNameStd } from '@ucd/mapping'
import type { Prng } from './prng'
import {
  SIM_CONTENT_TYPES,
  SIM_VALUE_TYPES,
  type SimAppState,
  type SimAttribute,
  type SimCompany,
  type SimEvent,
  type SimPageView,
  type SimTotals,
  type SimUser,
} from './schema'
import {
  E164,
  MAX_UNIX_SECONDS,
  attributeValueProblem,
  charLength,
  isEmail,
  isPlainObject,
  parseIsoDatetime,
} from './values'

// One app (tenant) of the simulated User.com: its users, companies, events, page views and
// attribute catalog, and the rules of WIRE.md. Handlers here know nothing of HTTP transport: they
// take parsed bodies and path parameters and return a status and a JSON body.

export interface ApiResult {
  status: number
  body: unknown
}

type Errors = Record<string, string[]>
type Rule = (value: unknown) => string | undefined

const ok = (body: unknown, status = 200): ApiResult => ({ status, body })
const notFound = (detail = 'Not found.'): ApiResult => ({ status: 404, body: { detail } })
const badRequest = (errors: Errors): ApiResult => ({ status: 400, body: { errors } })

const nullableString =
  (max: number): Rule =>
  value => {
    if (value === null) return undefined
    if (typeof value !== 'string') return 'Not a valid string.'
    return charLength(value) > max ? `Ensure this field has no more than ${max} characters.` : undefined
  }
const nullableEmail: Rule = value =>
  value === null || (typeof value === 'string' && isEmail(value)) ? undefined : 'Enter a valid email address.'
const boolean: Rule = value => (typeof value === 'boolean' ? undefined : 'Must be a valid boolean.')
const integer: Rule = value =>
  typeof value === 'number' && Number.isSafeInteger(value) ? undefined : 'A valid integer is required.'
const oneOf =
  (allowed: readonly number[], what: string): Rule =>
  value =>
    typeof value === 'number' && allowed.includes(value) ? undefined : `Must be one of ${what}.`
const stringList =
  (max: number): Rule =>
  value =>
    Array.isArray(value) &&
    value.every(item => typeof item === 'string' && item.length > 0 && charLength(item) <= max)
      ? undefined
      : `Must be a list of non-empty strings of at most ${max} characters.`

/** Writable standard user fields (WIRE.md Users) and their rules. */
const USER_FIELDS: Record<string, Rule> = {
  email: nullableEmail,
  first_name: nullableString(40),
  last_name: nullableString(40),
  phone_number: value =>
    value === null || (typeof value === 'string' && E164.test(value))
      ? undefined
      : 'Enter a valid phone number in E.164 format, e.g. +48123456789.',
  gender: oneOf([1, 2, 3], '1 (unknown), 2 (male), 3 (female)'),
  country: nullableString(255),
  region: nullableString(255),
  city: nullableString(255),
  timezone: nullableString(255),
  gravatar_url: nullableString(2000),
  facebook_url: nullableString(2000),
  linkedin_url: nullableString(2000),
  twitter_url: nullableString(2000),
  google_url: nullableString(2000),
  unsubscribed: boolean,
  notifications: boolean,
  score: integer,
  status: oneOf([1, 2], '1 (visitor), 2 (user)'),
  tags: stringList(255),
  company_custom_id: nullableString(255),
}

/** Writable standard company fields (WIRE.md Companies), besides `custom_id`. */
const COMPANY_FIELDS: Record<string, Rule> = {
  name: nullableString(255),
  description: nullableString(10_000),
  email: nullableEmail,
  size: value =>
    value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      ? undefined
      : 'A valid non-negative integer is required.',
  phone_numbers: value =>
    Array.isArray(value) && value.every(item => typeof item === 'string')
      ? undefined
      : 'Must be a list of strings.',
  address: nullableString(255),
  city: nullableString(255),
  region: nullableString(255),
  country: nullableString(255),
  postal_code: nullableString(255),
}

/**
 * Names custom attributes may not take: the writable fields and the fields of the object as the
 * API shows it (a custom attribute by that name could not be told apart). Kept to what the planner
 * (packages/mapping USER_FIELDS, COMPANY_FIELDS) also refuses, so the two agree.
 */
const RESERVED: Record<string, ReadonlySet<string>> = {
  clientuser: new Set([
    ...Object.keys(USER_FIELDS),
    'id',
    'custom_id',
    'user_key',
    'key',
    'name',
    'page_views',
    'last_seen',
    'created_at',
    'updated_at',
    'companies',
    'attributes',
  ]),
  company: new Set([
    ...Object.keys(COMPANY_FIELDS),
    'id',
    'custom_id',
    'employees',
    'created_at',
    'updated_at',
  ]),
}

const GENDERS: Record<number, string> = { 1: 'unknown', 2: 'male', 3: 'female' }
const STATUSES: Record<number, string> = { 1: 'visitor', 2: 'user' }
const KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

function addError(errors: Errors, field: string, message: string): void {
  ;(errors[field] ??= []).push(message)
}

function parseId(raw: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : undefined
}

export class AppData {
  private users = new Map<number, SimUser>()
  private usersByCustomId = new Map<string, SimUser>()
  private usersByKey = new Map<string, SimUser>()
  private companies = new Map<number, SimCompany>()
  private companiesByCustomId = new Map<string, SimCompany>()
  private attributes: SimAttribute[] = []
  private events: SimEvent[] = []
  private eventDefinitions = new Map<string, { properties: Set<string>; occurrences: number }>()
  private pageViews: SimPageView[] = []
  private nextId = { user: 1, company: 1, event: 1, attribute: 1, pageView: 1 }

  private eventTotal = 0
  private pageViewTotal = 0

  constructor(
    readonly name: string,
    private readonly prng: Prng,
    private readonly clock: () => number = Date.now,
    private readonly maxStoredRecords: number = 100_000,
  ) {}

  /** Appends, forgetting the oldest entries beyond the bound (in chunks, so it stays O(1) amortised). */
  private keep<T>(list: T[], item: T): void {
    list.push(item)
    if (list.length > this.maxStoredRecords + Math.ceil(this.maxStoredRecords / 10)) {
      list.splice(0, list.length - this.maxStoredRecords)
    }
  }

  private nowIso(): string {
    return new Date(this.clock()).toISOString()
  }

  private attribute(contentType: string, nameStd: string): SimAttribute | undefined {
    return this.attributes.find(a => a.content_type === contentType && a.name_std === nameStd)
  }

  /** Checks the custom attributes of `body` (keys that are no standard field) against the catalog. */
  private customValues(
    contentType: 'clientuser' | 'company',
    body: Record<string, unknown>,
    standard: Record<string, Rule>,
    errors: Errors,
  ): Record<string, unknown> {
    const values: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(body)) {
      if (key === 'custom_id' || key in standard) {
        const problem = key === 'custom_id' ? undefined : standard[key]?.(value)
        if (problem) addError(errors, key, problem)
        continue
      }
      const attribute = this.attribute(contentType, key)
      if (!attribute) {
        addError(errors, key, `Attribute "${key}" does not exist. Create it first (POST /attributes/).`)
        continue
      }
      const problem = attributeValueProblem(attribute, value)
      if (problem) addError(errors, key, problem)
      else values[key] = value
    }
    return values
  }

  private newUserKey(): string {
    for (;;) {
      let key = ''
      for (let i = 0; i < 12; i += 1) key += KEY_ALPHABET[this.prng.int(KEY_ALPHABET.length)]
      if (!this.usersByKey.has(key)) return key
    }
  }

  // ----- users

  /** `POST /users/update_or_create/`. */
  upsertUser(body: unknown): ApiResult {
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const errors: Errors = {}
    const customId = body.custom_id
    if (customId === undefined || customId === null) addError(errors, 'custom_id', 'This field is required.')
    else if (typeof customId !== 'string' || customId.length === 0) {
      addError(errors, 'custom_id', 'Must be a non-empty string.')
    } else if (charLength(customId) > 255) {
      addError(errors, 'custom_id', 'Ensure this field has no more than 255 characters.')
    }
    const custom = this.customValues('clientuser', body, USER_FIELDS, errors)
    if (Object.keys(errors).length > 0 || typeof customId !== 'string') return badRequest(errors)

    const now = this.nowIso()
    let user = this.usersByCustomId.get(customId)
    const created = user === undefined
    if (!user) {
      user = {
        id: this.nextId.user++,
        custom_id: customId,
        user_key: this.newUserKey(),
        email: null,
        first_name: null,
        last_name: null,
        phone_number: null,
        gender: 1,
        status: 1,
        country: null,
        region: null,
        city: null,
        timezone: null,
        gravatar_url: null,
        facebook_url: null,
        linkedin_url: null,
        twitter_url: null,
        google_url: null,
        unsubscribed: false,
        notifications: true,
        score: 0,
        tags: [],
        companies: [],
        attributes: {},
        page_views: 0,
        last_seen: null,
        created_at: now,
        updated_at: now,
      }
      this.users.set(user.id, user)
      this.usersByCustomId.set(customId, user)
      this.usersByKey.set(user.user_key, user)
    }
    const record = user as unknown as Record<string, unknown>
    for (const key of Object.keys(USER_FIELDS)) {
      if (!(key in body) || key === 'tags' || key === 'company_custom_id') continue
      record[key] = body[key]
    }
    if (Array.isArray(body.tags)) {
      for (const tag of body.tags as string[]) if (!user.tags.includes(tag)) user.tags.push(tag)
    }
    if (typeof body.company_custom_id === 'string') {
      // Joins an existing company; an unknown company is ignored (User.com documents no auto-create).
      const company = this.companiesByCustomId.get(body.company_custom_id)
      if (company) this.join(company, user, now)
    }
    Object.assign(user.attributes, custom)
    user.updated_at = now
    return ok({ created, id: user.id })
  }

  private userView(user: SimUser): Record<string, unknown> {
    const name = [user.first_name, user.last_name].filter(Boolean).join(' ')
    return {
      ...user,
      key: user.user_key,
      name: name || null,
      gender: GENDERS[user.gender] ?? 'unknown',
      status: STATUSES[user.status] ?? 'visitor',
      tags: user.tags.map(tag => ({ name: tag })),
      attributes: Object.entries(user.attributes).map(([nameStd, value]) => {
        const def = this.attribute('clientuser', nameStd)
        return { id: def?.id ?? null, name: def?.name ?? nameStd, name_std: nameStd, value }
      }),
    }
  }

  /** `GET /users/:id/`. */
  getUser(rawId: string): ApiResult {
    const id = parseId(rawId)
    const user = id === undefined ? undefined : this.users.get(id)
    return user ? ok(this.userView(user)) : notFound()
  }

  /** `GET /users-by-id/:custom_id/`. */
  getUserByCustomId(customId: string): ApiResult {
    const user = this.usersByCustomId.get(customId)
    return user ? ok(this.userView(user)) : notFound()
  }

  // ----- attributes

  /** `GET /attributes/?page=N`; `pageUrl(n)` builds the full URL of page n. */
  listAttributes(
    rawPage: string | undefined,
    pageSize: number,
    pageUrl: (page: number) => string,
  ): ApiResult {
    const page = rawPage === undefined ? 1 : parseId(rawPage)
    const pages = Math.max(1, Math.ceil(this.attributes.length / pageSize))
    if (page === undefined || page > pages) return notFound('Invalid page.')
    const results = this.attributes.slice((page - 1) * pageSize, page * pageSize).map(a => ({ ...a }))
    return ok({
      count: this.attributes.length,
      next: page < pages ? pageUrl(page + 1) : null,
      previous: page > 1 ? pageUrl(page - 1) : null,
      results,
    })
  }

  /** `POST /attributes/`. */
  createAttribute(body: unknown): ApiResult {
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const errors: Errors = {}
    const { name, content_type: contentType, value_type: valueType, choices } = body
    if (typeof name !== 'string' || name.trim().length === 0) {
      addError(errors, 'name', 'This field is required (a non-empty string).')
    } else if (charLength(name) > 32)
      addError(errors, 'name', 'Ensure this field has no more than 32 characters.')
    if (typeof contentType !== 'string' || !(SIM_CONTENT_TYPES as readonly string[]).includes(contentType)) {
      addError(errors, 'content_type', `Must be one of ${SIM_CONTENT_TYPES.join(', ')}.`)
    }
    if (typeof valueType !== 'string' || !(SIM_VALUE_TYPES as readonly string[]).includes(valueType)) {
      addError(errors, 'value_type', `Must be one of ${SIM_VALUE_TYPES.join(', ')}.`)
    }
    if (valueType === 'fixed') {
      if (!Array.isArray(choices) || choices.length === 0 || !choices.every(c => typeof c === 'string')) {
        addError(errors, 'choices', 'A fixed attribute needs a non-empty list of string choices.')
      }
    }
    for (const key of Object.keys(body)) {
      if (!['name', 'content_type', 'value_type', 'choices', 'allow_multiple_choices'].includes(key)) {
        addError(errors, key, 'Unknown field.')
      }
    }
    if (Object.keys(errors).length > 0) return badRequest(errors)
    const result = this.addAttribute({
      name: name as string,
      content_type: contentType as SimAttribute['content_type'],
      value_type: valueType as SimAttribute['value_type'],
      ...(valueType === 'fixed' ? { choices: choices as string[] } : {}),
      ...(typeof body.allow_multiple_choices === 'boolean'
        ? { allow_multiple_choices: body.allow_multiple_choices }
        : {}),
    })
    return typeof result === 'string' ? badRequest({ name: [result] }) : ok({ ...result }, 201)
  }

  /** Adds an attribute (also used to seed a catalog); a string is the reason it was refused. */
  addAttribute(input: Omit<SimAttribute, 'id' | 'name_std'>): SimAttribute | string {
    const nameStd = toNameStd(input.name)
    if (nameStd.length === 0) return 'The name must contain a letter or digit.'
    if (RESERVED[input.content_type]?.has(nameStd)) return `"${nameStd}" is a standard field name.`
    if (this.attribute(input.content_type, nameStd)) {
      return `Attribute with this name already exists ("${nameStd}", ${input.content_type}).`
    }
    const attribute: SimAttribute = { id: this.nextId.attribute++, ...input, name_std: nameStd }
    this.attributes.push(attribute)
    return attribute
  }

  // ----- events and page views

  /** `POST /events/`. */
  createEvent(body: unknown): ApiResult {
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const errors: Errors = {}
    const { user_id: userId, name, data, timestamp } = body
    if (typeof userId !== 'number' || !Number.isSafeInteger(userId)) {
      addError(errors, 'user_id', 'A valid integer is required (the user id).')
    }
    if (typeof name !== 'string' || name.length === 0) addError(errors, 'name', 'This field is required.')
    else if (charLength(name) > 255)
      addError(errors, 'name', 'Ensure this field has no more than 255 characters.')
    if (data !== undefined && !isPlainObject(data)) addError(errors, 'data', 'Must be a JSON object.')
    if (
      timestamp !== undefined &&
      (typeof timestamp !== 'number' ||
        !Number.isSafeInteger(timestamp) ||
        timestamp < 0 ||
        timestamp > MAX_UNIX_SECONDS)
    ) {
      addError(errors, 'timestamp', 'Must be an integer Unix timestamp in seconds.')
    }
    for (const key of Object.keys(body)) {
      if (!['user_id', 'name', 'data', 'timestamp'].includes(key)) addError(errors, key, 'Unknown field.')
    }
    if (Object.keys(errors).length > 0) return badRequest(errors)
    const user = this.users.get(userId as number)
    if (!user) return notFound('User not found.')
    const eventName = name as string
    const eventData = (data ?? {}) as Record<string, unknown>
    let definition = this.eventDefinitions.get(eventName)
    const created = definition === undefined
    if (!definition) {
      definition = { properties: new Set(), occurrences: 0 }
      this.eventDefinitions.set(eventName, definition)
    }
    definition.occurrences += 1
    for (const key of Object.keys(eventData)) definition.properties.add(key)
    const event: SimEvent = {
      id: this.nextId.event++,
      user_id: user.id,
      name: eventName,
      data: eventData,
      timestamp: (timestamp as number | undefined) ?? Math.floor(this.clock() / 1000),
    }
    this.keep(this.events, event)
    this.eventTotal += 1
    return ok({ id: event.id, created }, 201)
  }

  /** `POST /site-views/`. */
  createSiteView(body: unknown): ApiResult {
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const errors: Errors = {}
    const { client_user: clientUser, page_domain: domain, page_path: path, timestamp } = body
    const user = typeof clientUser === 'string' ? this.usersByKey.get(clientUser) : undefined
    if (typeof clientUser !== 'string')
      addError(errors, 'client_user', 'This field is required (a user_key).')
    else if (!user) addError(errors, 'client_user', 'User with this key does not exist.')
    if (typeof domain !== 'string' || !/^https?:\/\/[^/\s?#]+$/.test(domain)) {
      addError(errors, 'page_domain', 'Must be an origin such as "https://example.com" (no path).')
    }
    if (typeof path !== 'string' || !path.startsWith('/')) {
      addError(errors, 'page_path', 'Must be a path starting with "/".')
    }
    let at: number | undefined
    if (typeof timestamp === 'string') at = parseIsoDatetime(timestamp)
    else if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0) {
      at = timestamp <= MAX_UNIX_SECONDS ? timestamp * 1000 : undefined
    }
    if (at === undefined) {
      addError(errors, 'timestamp', 'Must be an ISO 8601 datetime (or Unix seconds).')
    }
    for (const field of ['page_title', 'referrer'] as const) {
      if (body[field] !== undefined && typeof body[field] !== 'string')
        addError(errors, field, 'Not a valid string.')
    }
    for (const key of Object.keys(body)) {
      if (!['client_user', 'page_domain', 'page_path', 'timestamp', 'page_title', 'referrer'].includes(key)) {
        addError(errors, key, 'Unknown field.')
      }
    }
    if (Object.keys(errors).length > 0 || !user || at === undefined) return badRequest(errors)
    const iso = new Date(at).toISOString()
    const view: SimPageView = {
      id: this.nextId.pageView++,
      user_id: user.id,
      client_user: user.user_key,
      page_domain: domain as string,
      page_path: path as string,
      timestamp: iso,
      ...(typeof body.page_title === 'string' ? { page_title: body.page_title } : {}),
      ...(typeof body.referrer === 'string' ? { referrer: body.referrer } : {}),
    }
    this.keep(this.pageViews, view)
    this.pageViewTotal += 1
    user.page_views += 1
    if (user.last_seen === null || Date.parse(user.last_seen) < at) user.last_seen = iso
    return ok({ id: view.id }, 201)
  }

  // ----- companies

  private companyView(company: SimCompany): Record<string, unknown> {
    const { attributes, members, ...rest } = company
    return { ...rest, ...attributes, employees: [...members] }
  }

  private validateCompany(body: Record<string, unknown>, errors: Errors): Record<string, unknown> {
    const custom = this.customValues('company', body, COMPANY_FIELDS, errors)
    if ('custom_id' in body) {
      const cid = body.custom_id
      if (typeof cid !== 'string' || cid.length === 0)
        addError(errors, 'custom_id', 'Must be a non-empty string.')
      else if (charLength(cid) > 255)
        addError(errors, 'custom_id', 'Ensure this field has no more than 255 characters.')
    }
    return custom
  }

  private applyCompany(
    company: SimCompany,
    body: Record<string, unknown>,
    custom: Record<string, unknown>,
  ): void {
    const record = company as unknown as Record<string, unknown>
    for (const key of Object.keys(COMPANY_FIELDS)) if (key in body) record[key] = body[key]
    Object.assign(company.attributes, custom)
    company.updated_at = this.nowIso()
    for (const memberId of company.members) {
      const membership = this.users.get(memberId)?.companies.find(c => c.id === company.id)
      if (membership) membership.name = company.name
    }
  }

  /** `POST /companies/`. */
  createCompany(body: unknown): ApiResult {
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const errors: Errors = {}
    if (body.custom_id === undefined) addError(errors, 'custom_id', 'This field is required.')
    const custom = this.validateCompany(body, errors)
    if (Object.keys(errors).length > 0) return badRequest(errors)
    const customId = body.custom_id as string
    if (this.companiesByCustomId.has(customId)) {
      return badRequest({ custom_id: ['Company with this custom_id already exists.'] })
    }
    const now = this.nowIso()
    const company: SimCompany = {
      id: this.nextId.company++,
      custom_id: customId,
      name: null,
      description: null,
      email: null,
      size: null,
      phone_numbers: [],
      address: null,
      city: null,
      region: null,
      country: null,
      postal_code: null,
      attributes: {},
      members: [],
      created_at: now,
      updated_at: now,
    }
    this.applyCompany(company, body, custom)
    this.companies.set(company.id, company)
    this.companiesByCustomId.set(customId, company)
    return ok(this.companyView(company), 201)
  }

  private updateCompany(company: SimCompany | undefined, body: unknown): ApiResult {
    if (!company) return notFound()
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const errors: Errors = {}
    const custom = this.validateCompany(body, errors)
    if (Object.keys(errors).length > 0) return badRequest(errors)
    const newCustomId = body.custom_id as string | undefined
    if (newCustomId !== undefined && newCustomId !== company.custom_id) {
      if (this.companiesByCustomId.has(newCustomId)) {
        return badRequest({ custom_id: ['Company with this custom_id already exists.'] })
      }
      if (company.custom_id !== null) this.companiesByCustomId.delete(company.custom_id)
      company.custom_id = newCustomId
      this.companiesByCustomId.set(newCustomId, company)
    }
    this.applyCompany(company, body, custom)
    return ok(this.companyView(company))
  }

  /** `GET /companies/:id/`. */
  getCompany(rawId: string): ApiResult {
    const id = parseId(rawId)
    const company = id === undefined ? undefined : this.companies.get(id)
    return company ? ok(this.companyView(company)) : notFound()
  }

  /** `PUT /companies/:id/`. */
  updateCompanyById(rawId: string, body: unknown): ApiResult {
    const id = parseId(rawId)
    return this.updateCompany(id === undefined ? undefined : this.companies.get(id), body)
  }

  /** `GET /companies-by-id/:custom_id/`. */
  getCompanyByCustomId(customId: string): ApiResult {
    const company = this.companiesByCustomId.get(customId)
    return company ? ok(this.companyView(company)) : notFound()
  }

  /** `PUT /companies-by-id/:custom_id/`. */
  updateCompanyByCustomId(customId: string, body: unknown): ApiResult {
    return this.updateCompany(this.companiesByCustomId.get(customId), body)
  }

  private join(company: SimCompany, user: SimUser, now: string): boolean {
    if (company.members.includes(user.id)) return false
    company.members.push(user.id)
    user.companies.push({ id: company.id, name: company.name, member_since: now })
    return true
  }

  /** `POST /companies/:id/add_member/`: idempotent. */
  addMember(rawId: string, body: unknown): ApiResult {
    const id = parseId(rawId)
    const company = id === undefined ? undefined : this.companies.get(id)
    if (!company) return notFound('Company not found.')
    if (!isPlainObject(body)) return badRequest({ non_field_errors: ['Expected a JSON object.'] })
    const { user_id: userId, user_custom_id: userCustomId } = body
    const errors: Errors = {}
    if (userId !== undefined && (typeof userId !== 'number' || !Number.isSafeInteger(userId))) {
      addError(errors, 'user_id', 'A valid integer is required.')
    }
    if (userCustomId !== undefined && typeof userCustomId !== 'string') {
      addError(errors, 'user_custom_id', 'Not a valid string.')
    }
    if (userId === undefined && userCustomId === undefined) {
      addError(errors, 'user_id', 'user_id or user_custom_id is required.')
    }
    for (const key of Object.keys(body)) {
      if (key !== 'user_id' && key !== 'user_custom_id') addError(errors, key, 'Unknown field.')
    }
    if (Object.keys(errors).length > 0) return badRequest(errors)
    const user =
      typeof userId === 'number' ? this.users.get(userId) : this.usersByCustomId.get(userCustomId as string)
    if (!user) return notFound('User not found.')
    if (typeof userId === 'number' && typeof userCustomId === 'string' && user.custom_id !== userCustomId) {
      return badRequest({ user_custom_id: ['Does not match the user with this user_id.'] })
    }
    const added = this.join(company, user, this.nowIso())
    return ok({ company_id: company.id, user_id: user.id, user_custom_id: user.custom_id, added })
  }

  // ----- introspection

  totals(): SimTotals {
    return {
      users: this.users.size,
      companies: this.companies.size,
      events: this.eventTotal,
      pageViews: this.pageViewTotal,
      attributes: this.attributes.length,
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
      requests: copy(requests),
    }
  }
}
