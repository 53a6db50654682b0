import { MAX_STRING, USER_FIELDS, USER_READ_ONLY, WIDGET_FIELDS } from './fields'
import { Problems, notAnObject, notFound, ok, parseId, type ApiResult } from './results'
import type { SimUser } from './schema'
import type { AppData } from './store'
import { charLength, isPlainObject } from './values'

// Users: `POST /users/update_or_create/` (usercom-api.md §2.2), `GET /users/:id/` (§2.3) and
// `GET /users-by-id/:custom_id/` (§2.5).

const GENDERS: Record<number, string> = { 1: 'unknown', 2: 'male', 3: 'female' }
const STATUSES: Record<number, string> = { 1: 'visitor', 2: 'user' }

function checkCustomId(customId: unknown, errors: Problems): void {
  if (customId === undefined || customId === null) errors.add('custom_id', 'This field is required.')
  else if (typeof customId !== 'string' || customId.length === 0) {
    errors.add('custom_id', 'Must be a non-empty string.')
  } else if (charLength(customId) > MAX_STRING) {
    errors.add('custom_id', `Ensure this field has no more than ${MAX_STRING} characters.`)
  }
}

function createUser(data: AppData, customId: string, now: string): SimUser {
  const user: SimUser = {
    id: data.nextId.user++,
    custom_id: customId,
    user_key: data.newUserKey(),
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
    assigned_to: null,
    tags: [],
    companies: [],
    attributes: {},
    page_views: 0,
    last_seen: null,
    created_at: now,
    updated_at: now,
  }
  data.users.set(user.id, user)
  data.usersByCustomId.set(customId, user)
  data.usersByKey.set(user.user_key, user)
  return user
}

/** `POST /users/update_or_create/`: `200 {created, id}`. */
export function upsertUser(data: AppData, body: unknown): ApiResult {
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const customId = body.custom_id
  checkCustomId(customId, errors)
  const custom = data.checkBody('clientuser', body, USER_FIELDS, USER_READ_ONLY, errors)
  if (errors.any() || typeof customId !== 'string') return errors.result()

  const now = data.nowIso()
  const existing = data.usersByCustomId.get(customId)
  const user = existing ?? createUser(data, customId, now)
  data.applyStandard(user, body, USER_FIELDS)
  // Joins an existing company; an unknown one is ignored (User.com documents no auto-create).
  const company =
    typeof body.company_custom_id === 'string'
      ? data.companiesByCustomId.get(body.company_custom_id)
      : typeof body.company_id === 'number'
        ? data.companies.get(body.company_id)
        : undefined
  if (company) data.join(company, user, now)
  Object.assign(user.attributes, custom)
  user.updated_at = now
  return ok({ created: existing === undefined, id: user.id })
}

/** The user as the API shows it (§2.5, §2.9). */
export function userView(data: AppData, user: SimUser): Record<string, unknown> {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ')
  const widget = Object.fromEntries(WIDGET_FIELDS.map(field => [field, null]))
  return {
    ...user,
    ...widget,
    key: user.user_key,
    name: name || null,
    gender: GENDERS[user.gender] ?? 'unknown',
    status: STATUSES[user.status] ?? 'visitor',
    tags: user.tags.map(tag => ({ name: tag })),
    lists: [],
    web_push_subscription: false,
    attributes: Object.entries(user.attributes).map(([nameStd, value]) => {
      const def = data.attribute('clientuser', nameStd)
      return { id: def?.id ?? null, name: def?.name ?? nameStd, name_std: nameStd, value }
    }),
  }
}

export function userById(data: AppData, rawId: string): SimUser | undefined {
  const id = parseId(rawId)
  return id === undefined ? undefined : data.users.get(id)
}

/** `GET /users/:id/`. */
export function getUser(data: AppData, rawId: string): ApiResult {
  const user = userById(data, rawId)
  return user ? ok(userView(data, user)) : notFound()
}

/** `GET /users-by-id/:custom_id/`. */
export function getUserByCustomId(data: AppData, customId: string): ApiResult {
  const user = data.usersByCustomId.get(customId)
  return user ? ok(userView(data, user)) : notFound()
}
