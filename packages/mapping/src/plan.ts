import { mapGroup } from './company'
import { mapIdentify } from './user'
import { httpUrl, isObject, textOf } from './util'
import type { AttributeCatalog, Dropped, Operation, Plan } from './operations'
import type { JsonObject } from './util'
import type { PageEvent, SegmentEvent } from '@ucd/segment'

// The planner: a normalised Segment event and the tenant's attribute catalog → the ordered User.com
// operations that deliver it. Pure: no I/O, no clock, no randomness; the same input gives the same
// plan, and every step key is stable (the executor's checkpoints). Never throws for a schema-valid
// event.

type PageViewBody = Extract<Operation, { op: 'create_page_view' }>['body']

/** Why screen and alias calls are not delivered. */
export const SKIP_REASONS = {
  screen: 'screen calls are not delivered: User.com accepts identify, track, page and group',
  alias: 'alias calls are not delivered: User.com accepts identify, track, page and group',
} as const

function epochMs(iso: string, fallback: string): number {
  const ms = Date.parse(iso)
  if (Number.isFinite(ms)) return ms
  const other = Date.parse(fallback)
  return Number.isFinite(other) ? other : 0
}

/**
 * page → the site-view body. URL, path, search, title and referrer come from `properties`, else
 * `context.page` (title falls back to the page name). Without an absolute http(s) URL there is no
 * domain for the page view: undefined, reported in `dropped`.
 */
export function mapPageView(event: PageEvent, dropped: Dropped[]): PageViewBody | undefined {
  const properties = event.properties
  const page: JsonObject = isObject(event.context.page) ? event.context.page : {}
  const fromProperties = textOf(properties.url)
  const url = httpUrl(fromProperties ?? textOf(page.url))
  if (url === undefined) {
    dropped.push({
      field: fromProperties === undefined ? 'context.page.url' : 'properties.url',
      reason: 'no page view: it needs an absolute http(s) URL (properties.url or context.page.url)',
    })
    return undefined
  }
  const explicitPath = textOf(properties.path) ?? textOf(page.path)
  const path = explicitPath ?? url.pathname
  const search =
    explicitPath === undefined ? url.search : (textOf(properties.search) ?? textOf(page.search) ?? '')
  const body: PageViewBody = {
    page_domain: url.origin,
    page_path: `${path.startsWith('/') ? '' : '/'}${path}${search === '' || search.startsWith('?') ? '' : '?'}${search}`,
    timestamp: event.timestamp,
  }
  const title = textOf(properties.title) ?? textOf(page.title) ?? textOf(event.name)
  const referrer = textOf(properties.referrer) ?? textOf(page.referrer)
  if (title !== undefined) body.page_title = title
  if (referrer !== undefined) body.referrer = referrer
  return body
}

/** Plan the delivery of one normalised event. */
export function planEvent(event: SegmentEvent, catalog: AttributeCatalog): Plan {
  const customId = event.userId ?? event.anonymousId ?? ''
  const dropped: Dropped[] = []
  const plan = (steps: Operation[], skipped?: string): Plan => ({
    eventType: event.type,
    messageId: event.messageId,
    customId,
    steps,
    dropped,
    ...(skipped === undefined ? {} : { skipped }),
  })

  switch (event.type) {
    case 'identify': {
      const user = mapIdentify(customId, event.traits, event.context, catalog, dropped)
      return plan([...user.ensure, { op: 'upsert_user', key: 'user', customId, body: user.body }])
    }
    case 'track': {
      const timestamp = Math.floor(epochMs(event.timestamp, event.receivedAt) / 1000)
      return plan([
        { op: 'resolve_user', key: 'user', customId, needUserKey: false },
        {
          op: 'create_event',
          key: 'event',
          customId,
          body: { name: event.event, data: event.properties, timestamp },
        },
      ])
    }
    case 'page': {
      const body = mapPageView(event, dropped)
      const resolve: Operation = {
        op: 'resolve_user',
        key: 'user',
        customId,
        needUserKey: body !== undefined,
      }
      return plan(
        body === undefined
          ? [resolve]
          : [resolve, { op: 'create_page_view', key: 'page_view', customId, body }],
      )
    }
    case 'group': {
      const company = mapGroup(event.traits, catalog, dropped)
      return plan([
        ...company.ensure,
        { op: 'resolve_user', key: 'user', customId, needUserKey: false },
        { op: 'upsert_company', key: 'company', companyCustomId: event.groupId, body: company.body },
        { op: 'add_company_member', key: 'member', companyCustomId: event.groupId, customId },
      ])
    }
    case 'screen':
      return plan([], SKIP_REASONS.screen)
    case 'alias':
      return plan([], SKIP_REASONS.alias)
    default:
      return plan([], 'unknown event type')
  }
}
