import { USER_FIELDS } from './fields'
import { Problems, notAnObject, ok, type ApiResult } from './results'
import type { SimUser } from './schema'
import type { AppData } from './store'
import { isPlainObject } from './values'

// `POST /users/merge/` {parent, users_list} → `{"success": true}` (usercom-api.md §2.8): "the value
// will be taken first from the user to whom the values are to be merged, and then from the user
// with the lowest ID value". Events, page views, company memberships and tags move to the parent;
// the merged users are gone (their custom ids and user keys are free again).

const isId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0

const missing = (id: number): string => `Invalid pk "${id}" - object does not exist.`

/** Standard fields filled from the merged users: every `value` field (not custom_id, tags, memberships). */
const MERGED_FIELDS = Object.entries(USER_FIELDS).filter(([, spec]) => spec.kind === 'value')

/** A field "lacks a value" when it is null, empty, or still what a new user starts with. */
function lacks(value: unknown, cleared: unknown): boolean {
  return value === null || value === undefined || value === '' || value === cleared
}

function checkMerge(data: AppData, body: Record<string, unknown>, errors: Problems): SimUser[] {
  const { parent, users_list: list } = body
  if (!isId(parent)) errors.add('parent', 'A valid integer (the id of the user to merge into) is required.')
  else if (!data.users.has(parent)) errors.add('parent', missing(parent))
  if (!Array.isArray(list) || list.length === 0 || !list.every(isId)) {
    errors.add('users_list', 'A non-empty list of user ids (integers) is required.')
  } else {
    if (new Set(list).size !== list.length) errors.add('users_list', 'A user is listed twice.')
    if (isId(parent) && list.includes(parent))
      errors.add('users_list', 'The parent cannot be merged into itself.')
    for (const id of list) if (!data.users.has(id)) errors.add('users_list', missing(id))
  }
  errors.unknown(body, ['parent', 'users_list'])
  if (body.user_list !== undefined) errors.add('user_list', 'Unknown field (the list is "users_list").')
  if (errors.any()) return []
  return (list as number[]).map(id => data.users.get(id) as SimUser).sort((a, b) => a.id - b.id)
}

/** Moves the memberships of `donor` to `parent` (a company both belong to keeps one membership). */
function moveMemberships(data: AppData, parent: SimUser, donor: SimUser): void {
  for (const membership of donor.companies) {
    const company = data.companies.get(membership.id)
    if (!company) continue
    company.members = company.members.filter(id => id !== donor.id)
    data.join(company, parent, membership.member_since)
  }
}

/** `POST /users/merge/`. */
export function mergeUsers(data: AppData, body: unknown): ApiResult {
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const donors = checkMerge(data, body, errors)
  if (errors.any()) return errors.result()
  const parent = data.users.get(body.parent as number) as SimUser
  const record = parent as unknown as Record<string, unknown>

  for (const [field, spec] of MERGED_FIELDS) {
    if (!lacks(record[field], spec.cleared)) continue
    const donor = donors.find(d => !lacks((d as unknown as Record<string, unknown>)[field], spec.cleared))
    if (donor) record[field] = (donor as unknown as Record<string, unknown>)[field]
  }
  for (const donor of donors) {
    for (const [nameStd, value] of Object.entries(donor.attributes)) {
      if (lacks(parent.attributes[nameStd], undefined) && !lacks(value, undefined)) {
        parent.attributes[nameStd] = value
      }
    }
    for (const tag of donor.tags) if (!parent.tags.includes(tag)) parent.tags.push(tag)
    moveMemberships(data, parent, donor)
    parent.page_views += donor.page_views
    if (donor.last_seen !== null && (parent.last_seen === null || donor.last_seen > parent.last_seen)) {
      parent.last_seen = donor.last_seen
    }
    data.users.delete(donor.id)
    if (donor.custom_id !== null) data.usersByCustomId.delete(donor.custom_id)
    data.usersByKey.delete(donor.user_key)
  }
  const merged = new Set(donors.map(d => d.id))
  for (const event of data.events) if (merged.has(event.user_id)) event.user_id = parent.id
  for (const view of data.pageViews) {
    if (!merged.has(view.user_id)) continue
    view.user_id = parent.id
    view.client_user = parent.user_key
  }
  const now = data.nowIso()
  parent.updated_at = now
  data.keep(data.merges, {
    parent: { id: parent.id, custom_id: parent.custom_id },
    merged: donors.map(d => ({ id: d.id, custom_id: d.custom_id })),
    at: now,
  })
  data.counted.merges += 1
  return ok({ success: true })
}
