import { Problems, notAnObject, ok, type ApiResult } from './results'
import type { SimPageView } from './schema'
import type { AppData } from './store'
import { MAX_UNIX_SECONDS, isPlainObject, parseIsoDatetime } from './values'

// Page views: `POST /site-views/` (usercom-api.md §4; only known from RudderStack, so most of the
// rules are the simulator's documented decisions: `page_domain` an origin, timestamp ISO or seconds).

const SITE_VIEW_FIELDS = ['client_user', 'page_domain', 'page_path', 'timestamp', 'page_title', 'referrer']
const ORIGIN = /^https?:\/\/[^/\s?#]+$/

function timestampOf(timestamp: unknown): number | undefined {
  if (typeof timestamp === 'string') return parseIsoDatetime(timestamp)
  if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0) {
    return timestamp <= MAX_UNIX_SECONDS ? timestamp * 1000 : undefined
  }
  return undefined
}

/** `POST /site-views/`: `201 {id}`; the user's `page_views` + 1 and `last_seen` moves forward only. */
export function createSiteView(data: AppData, body: unknown): ApiResult {
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const { client_user: clientUser, page_domain: domain, page_path: path } = body
  const user = typeof clientUser === 'string' ? data.usersByKey.get(clientUser) : undefined
  if (typeof clientUser !== 'string') errors.add('client_user', 'This field is required (a user_key).')
  else if (!user) errors.add('client_user', 'User with this key does not exist.')
  if (typeof domain !== 'string' || !ORIGIN.test(domain)) {
    errors.add('page_domain', 'Must be an origin such as "https://example.com" (no path).')
  }
  if (typeof path !== 'string' || !path.startsWith('/')) {
    errors.add('page_path', 'Must be a path starting with "/".')
  }
  const at = timestampOf(body.timestamp)
  if (at === undefined) errors.add('timestamp', 'Must be an ISO 8601 datetime (or Unix seconds).')
  for (const field of ['page_title', 'referrer'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'string') {
      errors.add(field, 'Not a valid string.')
    }
  }
  errors.unknown(body, SITE_VIEW_FIELDS)
  if (errors.any() || !user || at === undefined) return errors.result()
  const iso = new Date(at).toISOString()
  const view: SimPageView = {
    id: data.nextId.pageView++,
    user_id: user.id,
    client_user: user.user_key,
    page_domain: domain as string,
    page_path: path as string,
    timestamp: iso,
    ...(typeof body.page_title === 'string' ? { page_title: body.page_title } : {}),
    ...(typeof body.referrer === 'string' ? { referrer: body.referrer } : {}),
  }
  data.keep(data.pageViews, view)
  data.counted.pageViews += 1
  user.page_views += 1
  if (user.last_seen === null || Date.parse(user.last_seen) < at) user.last_seen = iso
  return ok({ id: view.id }, 201)
}
