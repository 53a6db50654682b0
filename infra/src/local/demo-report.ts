import type { SimAppState } from '@ucd/usercom-sim'

// What `pnpm demo` prints of one simulator app: this run's users, companies, events and page views.

const GENDER = ['', 'unknown', 'male', 'female']

function short(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Wraps `name=value` items into lines of at most `width` characters. */
function wrap(items: string[], width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const item of items) {
    if (line && line.length + item.length + 2 > width) {
      lines.push(line)
      line = ''
    }
    line = line ? `${line}, ${item}` : item
  }
  if (line) lines.push(line)
  return lines
}

/** This run's users, companies, events and page views in one simulator app. */
export function printApp(
  say: (line?: string) => void,
  tenant: string,
  app: SimAppState | undefined,
  run: string,
): void {
  const mine = (id: string | null): boolean => id?.startsWith(`${run}-`) === true
  const users = app?.users.filter(u => mine(u.custom_id)) ?? []
  const userIds = new Map(users.map(u => [u.id, u.custom_id ?? String(u.id)]))
  const companies = app?.companies.filter(c => mine(c.custom_id)) ?? []
  const events = app?.events.filter(e => userIds.has(e.user_id)) ?? []
  const views = app?.pageViews.filter(v => userIds.has(v.user_id)) ?? []
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`
  say()
  say(
    `  ${tenant}: ${count(users.length, 'user', 'users')}, ${count(companies.length, 'company', 'companies')}, ` +
      `${count(events.length, 'event', 'events')}, ${count(views.length, 'page view', 'page views')}`,
  )
  const pad = ' '.repeat(8)
  const idWidth = Math.max(0, ...[...userIds.values()].map(id => id.length))
  const nameWidth = Math.max(0, ...events.map(e => e.name.length))
  const who = (userId: number): string => (userIds.get(userId) ?? String(userId)).padEnd(idWidth)
  if (users.length > 0) say(`    Users`)
  for (const user of users) {
    const name = [user.first_name, user.last_name].filter(Boolean).join(' ')
    const facts = [
      name && user.email ? `${name} <${user.email}>` : name || user.email || '(anonymous visitor)',
      user.phone_number,
      GENDER[user.gender] !== 'unknown' ? GENDER[user.gender] : undefined,
      [user.city, user.region, user.country].filter(Boolean).join(', ') || undefined,
      user.timezone,
    ].filter(Boolean)
    say(`      ${user.custom_id ?? user.id}  ${facts.join(' · ')}`)
    const attributes = Object.entries(user.attributes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}=${short(value, 28)}`)
    for (const line of wrap(attributes, 96)) say(`${pad}${line}`)
    const extra = [
      user.companies.length > 0
        ? `member of ${user.companies.map(c => c.name ?? c.id).join(', ')}`
        : undefined,
      `page views ${user.page_views}`,
    ].filter(Boolean)
    say(`${pad}${extra.join(' · ')}`)
  }
  if (companies.length > 0) say(`    Companies`)
  for (const company of companies) {
    const facts = [
      company.name,
      company.size === null ? undefined : `${company.size} employees`,
      company.address,
    ].filter(Boolean)
    say(`      ${company.custom_id ?? company.id}  ${facts.join(' · ')}`)
    const attributes = Object.entries(company.attributes).map(([key, value]) => `${key}=${short(value, 28)}`)
    for (const line of wrap(attributes, 96)) say(`${pad}${line}`)
    say(`${pad}members: ${company.members.map(id => userIds.get(id) ?? String(id)).join(', ')}`)
  }
  if (events.length > 0) say(`    Events`)
  for (const event of events) {
    say(
      `      ${new Date(event.timestamp * 1000).toISOString()}  ${who(event.user_id)}  ${event.name.padEnd(nameWidth)}  ${short(event.data, 60)}`,
    )
  }
  if (views.length > 0) say(`    Page views`)
  for (const view of views) {
    const title = view.page_title ? `"${view.page_title}"` : ''
    const referrer = view.referrer ? `from ${view.referrer}` : ''
    say(
      `      ${view.timestamp}  ${who(view.user_id)}  ${view.page_domain}${view.page_path}  ${title}  ${referrer}`.trimEnd(),
    )
  }
}
