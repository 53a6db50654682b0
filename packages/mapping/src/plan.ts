import { z } from 'zod'
import { mapCompanyOfUser, mapGroup } from './company'
import { MAX_TEXT_LENGTH, cutText } from './limits'
import { mapPageView } from './page'
import { mapIdentify } from './user'
import { httpUrl, textOf } from './util'
import type { AttributeCatalog, Dropped, Operation, Plan } from './operations'
import type { JsonObject } from './util'
import type { ScreenEvent, SegmentEvent } from '@ucd/segment'

// The planner: a normalised Segment event and the tenant's attribute catalog → the ordered User.com
// operations that deliver it. Pure: no I/O, no clock, no randomness; the same input gives the same
// plan, and every step key is stable (the executor's checkpoints). Never throws for a schema-valid
// event.

/** What a tenant may set about how its events are planned (the tenants file carries them, validated by @ucd/config). */
export const PlanOptionsSchema = z.object({
  /**
   * The site of page calls that carry a path but no absolute URL (server-side `page` calls):
   * an origin such as `https://www.example.com`. Without it such calls are no page view.
   */
  pageDomain: z.string().optional(),
  /** `event`: screen calls become event occurrences (`Viewed <name> Screen`); `off` (default): not delivered. */
  screens: z.enum(['off', 'event']).optional(),
  /**
   * `true`: an event with both `userId` and `anonymousId` ends with a `merge_users` step, and `alias`
   * is delivered as one. Absent or `false`: neither (tenants default to `true` in @ucd/config).
   */
  mergeAnonymous: z.boolean().optional(),
})
export type PlanOptions = z.infer<typeof PlanOptionsSchema>

/** Why screen and alias calls are not delivered. */
export const SKIP_REASONS = {
  screen: 'screen calls are not delivered unless the tenant sets screens: "event"',
  alias: 'alias calls are delivered only when the tenant sets mergeAnonymous (a merge)',
  aliasSelf: 'alias of an id to itself: nothing to merge',
} as const

/** The merge step of an event that carries both ids (when the tenant merges), else nothing. */
function mergeSteps(event: SegmentEvent, options: PlanOptions): Operation[] {
  const { userId, anonymousId } = event
  if (options.mergeAnonymous !== true || userId === undefined || anonymousId === undefined) return []
  if (userId === anonymousId) return []
  return [{ op: 'merge_users', key: 'merge', customId: userId, anonymousId }]
}

/** Segment's name for a screen view as an event (as its destinations name them; page: "Viewed <name> Page"). */
export function screenEventName(event: ScreenEvent): string {
  const name = textOf(event.name)
  return name === undefined ? 'Loaded a Screen' : `Viewed ${name} Screen`
}

function epochMs(iso: string, fallback: string): number {
  const ms = Date.parse(iso)
  if (Number.isFinite(ms)) return ms
  const other = Date.parse(fallback)
  return Number.isFinite(other) ? other : 0
}

/** `resolve_user` and `create_event`: a track, or a screen delivered as an event. */
function eventSteps(
  event: SegmentEvent,
  customId: string,
  name: { value: string; field: string },
  data: JsonObject,
  dropped: Dropped[],
): Operation[] {
  const timestamp = Math.floor(epochMs(event.timestamp, event.receivedAt) / 1000)
  return [
    { op: 'resolve_user', key: 'user', customId, needUserKey: false },
    {
      op: 'create_event',
      key: 'event',
      customId,
      body: { name: cutText(name.value, MAX_TEXT_LENGTH, name.field, 'name', dropped), data, timestamp },
    },
  ]
}

/** Plan the delivery of one normalised event. */
export function planEvent(event: SegmentEvent, catalog: AttributeCatalog, options: PlanOptions = {}): Plan {
  const customId = event.userId ?? event.anonymousId ?? ''
  const dropped: Dropped[] = []
  const plan = (steps: Operation[], skipped?: string): Plan => ({
    eventType: event.type,
    messageId: event.messageId,
    customId,
    // Last: the event's own data lands first; a merge that has to wait does not hold it back.
    steps:
      skipped === undefined && event.type !== 'alias' ? [...steps, ...mergeSteps(event, options)] : steps,
    dropped,
    ...(skipped === undefined ? {} : { skipped }),
  })

  switch (event.type) {
    case 'identify': {
      const user = mapIdentify(customId, event.traits, event.context, catalog, dropped)
      const steps: Operation[] = [
        ...user.ensure,
        { op: 'upsert_user', key: 'user', customId, body: user.body },
      ]
      const company =
        user.company === undefined ? undefined : mapCompanyOfUser(user.company, catalog, dropped)
      if (company !== undefined) {
        const { companyCustomId } = company
        steps.push(
          ...company.ensure,
          { op: 'upsert_company', key: 'company', companyCustomId, body: company.body },
          { op: 'add_company_member', key: 'member', companyCustomId, customId },
        )
      }
      return plan(steps)
    }
    case 'track':
      return plan(
        eventSteps(event, customId, { value: event.event, field: 'event' }, event.properties, dropped),
      )
    case 'page': {
      const pageDomain = options.pageDomain === undefined ? undefined : httpUrl(options.pageDomain)?.origin
      const body = mapPageView(event, dropped, pageDomain)
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
      if (options.screens !== 'event') return plan([], SKIP_REASONS.screen)
      return plan(
        eventSteps(
          event,
          customId,
          { value: screenEventName(event), field: 'name' },
          event.properties,
          dropped,
        ),
      )
    case 'alias':
      if (options.mergeAnonymous !== true) return plan([], SKIP_REASONS.alias)
      if (event.previousId === customId) return plan([], SKIP_REASONS.aliasSelf)
      return plan([
        { op: 'resolve_user', key: 'user', customId, needUserKey: false },
        { op: 'merge_users', key: 'merge', customId, anonymousId: event.previousId },
      ])
    default:
      return plan([], 'unknown event type')
  }
}
