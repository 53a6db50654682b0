import type { SimEventReport, SimUser } from './schema'
import type { AppData } from './store'

// Introspection for tests: the event occurrences of an app (or of one user) and their duplicates.

/** JSON with object keys sorted at every level, so `{a, b}` and `{b, a}` compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** `GET /__sim/events`: the kept occurrences (oldest first), of one user when `user` is given. */
export function eventReport(data: AppData, user?: SimUser): SimEventReport {
  const events = data.events
    .filter(e => user === undefined || e.user_id === user.id)
    .map(e => ({ ...structuredClone(e), custom_id: data.users.get(e.user_id)?.custom_id ?? null }))
  const groups = new Map<string, { first: (typeof events)[number]; ids: number[] }>()
  for (const event of events) {
    const key = canonicalJson([event.user_id, event.name, event.timestamp, event.data])
    const group = groups.get(key)
    if (group) group.ids.push(event.id)
    else groups.set(key, { first: event, ids: [event.id] })
  }
  const duplicates = [...groups.values()]
    .filter(group => group.ids.length > 1)
    .map(({ first: { id: _id, ...rest }, ids }) => ({ ...rest, count: ids.length, ids }))
  return { app: data.name, count: events.length, events, duplicates }
}
