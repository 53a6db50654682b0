import { MAX_STRING } from './fields'
import { Problems, notAnObject, notFound, ok, type ApiResult } from './results'
import type { SimEvent, SimUser } from './schema'
import type { AppData } from './store'
import { MAX_UNIX_SECONDS, charLength, isPlainObject } from './values'

// Event occurrences: `POST /events/` (usercom-api.md §3.1), `POST /users-by-id/:custom_id/events/`
// (§3.2) and the user's events listing `GET /users-by-id/:custom_id/events/` (§2.5), with cursor
// pagination (§1.4): newest first (by timestamp, then by id), `next` a full URL.

interface EventFields {
  name: string
  data: Record<string, unknown>
  timestamp: number | undefined
}

/** Checks name, data and timestamp (and flags keys outside `allowed`). */
function checkEvent(
  body: Record<string, unknown>,
  allowed: readonly string[],
  errors: Problems,
): EventFields {
  const { name, data, timestamp } = body
  if (typeof name !== 'string' || name.length === 0) errors.add('name', 'This field is required.')
  else if (charLength(name) > MAX_STRING) {
    errors.add('name', `Ensure this field has no more than ${MAX_STRING} characters.`)
  }
  if (data !== undefined && !isPlainObject(data)) {
    errors.add('data', 'Must be a JSON object.')
  }
  if (
    timestamp !== undefined &&
    (typeof timestamp !== 'number' ||
      !Number.isSafeInteger(timestamp) ||
      timestamp < 0 ||
      timestamp > MAX_UNIX_SECONDS)
  ) {
    errors.add('timestamp', 'Must be an integer Unix timestamp in seconds.')
  }
  errors.unknown(body, allowed)
  return {
    name: name as string,
    data: isPlainObject(data) ? data : {},
    timestamp: timestamp as number | undefined,
  }
}

function record(data: AppData, user: SimUser, fields: EventFields): ApiResult {
  let definition = data.eventDefinitions.get(fields.name)
  const created = definition === undefined
  if (!definition) {
    definition = { properties: new Set(), occurrences: 0 }
    data.eventDefinitions.set(fields.name, definition)
  }
  definition.occurrences += 1
  for (const key of Object.keys(fields.data)) definition.properties.add(key)
  const event: SimEvent = {
    id: data.nextId.event++,
    user_id: user.id,
    name: fields.name,
    data: fields.data,
    timestamp: fields.timestamp ?? Math.floor(data.now() / 1000),
  }
  data.keep(data.events, event)
  data.counted.events += 1
  return ok({ id: event.id, created }, 201)
}

/** `POST /events/`: `201 {id, created}` (`created`: the first occurrence of the name). */
export function createEvent(data: AppData, body: unknown): ApiResult {
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const userId = body.user_id
  if (typeof userId !== 'number' || !Number.isSafeInteger(userId)) {
    errors.add('user_id', 'A valid integer is required (the user id).')
  }
  const fields = checkEvent(body, ['user_id', 'name', 'data', 'timestamp'], errors)
  if (errors.any()) return errors.result()
  const user = data.users.get(userId as number)
  return user ? record(data, user, fields) : notFound('User not found.')
}

/** `POST /users-by-id/:custom_id/events/`: the same, the user named by the path. */
export function createEventByCustomId(data: AppData, customId: string, body: unknown): ApiResult {
  const user = data.usersByCustomId.get(customId)
  if (!user) return notFound('User not found.')
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const fields = checkEvent(body, ['name', 'data', 'timestamp'], errors)
  return errors.any() ? errors.result() : record(data, user, fields)
}

// ----- listing

/** Newest first: a larger timestamp, then a larger id, comes first. */
const before = (a: SimEvent, b: { t: number; i: number }): boolean =>
  a.timestamp > b.t || (a.timestamp === b.t && a.id > b.i)

interface Cursor {
  /** Reverse: the page that ends just before the position (a `previous` link). */
  r: boolean
  t: number
  i: number
}

const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(`${cursor.r ? 'r' : 'f'}.${cursor.t}.${cursor.i}`).toString('base64url')

function decodeCursor(raw: string): Cursor | undefined {
  const parts = Buffer.from(raw, 'base64url').toString('utf8').split('.')
  const [dir, t, i] = parts
  if (
    parts.length !== 3 ||
    (dir !== 'f' && dir !== 'r') ||
    !/^\d{1,16}$/.test(t ?? '') ||
    !/^\d{1,16}$/.test(i ?? '')
  ) {
    return undefined
  }
  return { r: dir === 'r', t: Number(t), i: Number(i) }
}

/** The kept occurrences of one user, newest first. */
export function eventsOf(data: AppData, userId: number): SimEvent[] {
  return data.events
    .filter(e => e.user_id === userId)
    .sort((a, b) => b.timestamp - a.timestamp || b.id - a.id)
}

/**
 * `GET /users-by-id/:custom_id/events/[?cursor=...]` and `GET /users/:id/events/`: `{count, next,
 * previous, results: [{id, name, data, timestamp}]}`; `pageUrl(cursor)` builds the full URL.
 */
export function listUserEvents(
  data: AppData,
  user: SimUser | undefined,
  rawCursor: string | undefined,
  pageSize: number,
  pageUrl: (cursor: string) => string,
): ApiResult {
  if (!user) return notFound()
  const cursor = rawCursor === undefined ? undefined : decodeCursor(rawCursor)
  if (rawCursor !== undefined && cursor === undefined) return notFound('Invalid cursor.')
  const all = eventsOf(data, user.id)
  let start = 0
  let end = Math.min(all.length, pageSize)
  if (cursor?.r === true) {
    // The page that ends just before the position.
    const stop = all.findIndex(e => !before(e, cursor))
    end = stop < 0 ? all.length : stop
    start = Math.max(0, end - pageSize)
  } else if (cursor !== undefined) {
    // The page that starts just after the position.
    const at = all.findIndex(e => !before(e, cursor) && !(e.timestamp === cursor.t && e.id === cursor.i))
    start = at < 0 ? all.length : at
    end = Math.min(all.length, start + pageSize)
  }
  const page = all.slice(start, end)
  const first = page[0]
  const last = page.at(-1)
  return ok({
    count: all.length,
    next:
      end < all.length && last ? pageUrl(encodeCursor({ r: false, t: last.timestamp, i: last.id })) : null,
    previous: start > 0 && first ? pageUrl(encodeCursor({ r: true, t: first.timestamp, i: first.id })) : null,
    results: page.map(e => ({
      id: e.id,
      name: e.name,
      data: structuredClone(e.data),
      timestamp: e.timestamp,
    })),
  })
}
