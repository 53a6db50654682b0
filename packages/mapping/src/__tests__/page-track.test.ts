import { describe, expect, it } from '@jest/globals'
import { SPEC_FIXTURES } from '@ucd/segment/testing'
import { planEvent } from '../index'
import { event, fixtureEvents, step } from './helpers'

describe("\"Sending a `.page()` request increments `page_views` counter and updates `last_seen` timestamp if it is newer than the existing timestamp on a user's profile. It also records a new 'Page view'\"", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'properties.url: origin as domain, path and query as path',
      { properties: { url: 'https://www.example.com/pricing?plan=pro' } },
      { page_domain: 'https://www.example.com', page_path: '/pricing?plan=pro' },
    ],
    [
      'a bare origin has path /',
      { properties: { url: 'http://www.example.com' } },
      { page_domain: 'http://www.example.com', page_path: '/' },
    ],
    [
      'port kept, credentials and fragment never sent',
      { properties: { url: 'https://user:secret@example.com:8443/a#frag' } },
      { page_domain: 'https://example.com:8443', page_path: '/a' },
    ],
    [
      'context.page when properties have none (analytics.js)',
      {
        context: {
          page: {
            path: '/academy/',
            referrer: 'https://google.com/',
            search: '?q=1',
            title: 'Academy',
            url: 'https://segment.com/academy/?q=1',
          },
        },
      },
      {
        page_domain: 'https://segment.com',
        page_path: '/academy/?q=1',
        page_title: 'Academy',
        referrer: 'https://google.com/',
      },
    ],
    [
      'properties win over context.page',
      {
        properties: { url: 'https://a.io/x', title: 'From properties', referrer: 'https://r.io/' },
        context: { page: { url: 'https://b.io/y', title: 'From context', referrer: 'https://s.io/' } },
      },
      {
        page_domain: 'https://a.io',
        page_path: '/x',
        page_title: 'From properties',
        referrer: 'https://r.io/',
      },
    ],
    [
      'an explicit path (and search without ?) wins over the URL path',
      { properties: { url: 'https://a.io/canonical', path: '/actual', search: 'x=1' } },
      { page_domain: 'https://a.io', page_path: '/actual?x=1' },
    ],
    [
      'title falls back to the page name',
      { name: 'Home', properties: { url: 'https://a.io/', title: '' } },
      { page_domain: 'https://a.io', page_path: '/', page_title: 'Home' },
    ],
    [
      'empty title and referrer are left out',
      { properties: { url: 'https://a.io/', title: '', referrer: '' } },
      { page_domain: 'https://a.io', page_path: '/' },
    ],
  ])('%s', (_name, raw, expected) => {
    const input = event({ type: 'page', userId: 'u1', timestamp: '2024-01-02T03:04:05.678Z', ...raw })
    const plan = planEvent(input, [])
    expect(plan.steps).toEqual([
      { op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: true },
      {
        op: 'create_page_view',
        key: 'page_view',
        customId: 'u1',
        body: { timestamp: '2024-01-02T03:04:05.678Z', ...expected },
      },
    ])
    expect(plan.dropped).toEqual([])
  })

  it('the page view time is the event time (clock-skew corrected), as ISO 8601', () => {
    const input = event({
      type: 'page',
      userId: 'u1',
      properties: { url: 'https://a.io/' },
      originalTimestamp: '2024-03-01T11:00:00.000Z',
      sentAt: '2024-03-01T11:00:10.000Z',
    })
    // received 12:00:00 − (sent − original = 10 s)
    expect(step(planEvent(input, []), 'create_page_view').body.timestamp).toBe('2024-03-01T11:59:50.000Z')
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['no URL at all (HTTP API example)', {}, 'context.page.url'],
    ['a relative URL', { properties: { url: '/pricing' } }, 'properties.url'],
    ['not a URL', { properties: { url: 'home page' } }, 'properties.url'],
    ['not http(s)', { properties: { url: 'android-app://com.example/home' } }, 'properties.url'],
  ])(
    '%s: no page view (no domain to record it under), the user still resolved, reported',
    (_name, raw, field) => {
      const plan = planEvent(event({ type: 'page', userId: 'u1', ...raw }), [])
      expect(plan.steps).toEqual([{ op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: false }])
      expect(plan.dropped).toEqual([
        {
          field,
          reason: 'no page view: it needs an absolute http(s) URL (properties.url or context.page.url)',
        },
      ])
    },
  )
})

describe('"Sending a `.track()` request records a new \'Event occurrence\'" ("if an event with a given name is not defined in User.com, it will be created automatically, as will its properties")', () => {
  it.each<
    [string, Record<string, unknown>, { name: string; data: Record<string, unknown>; timestamp: number }]
  >([
    [
      'name, properties as data, time in Unix seconds',
      {
        event: 'Item Purchased',
        properties: { name: 'Mat', revenue: 14.99 },
        timestamp: '2012-12-02T00:30:12.984Z',
      },
      { name: 'Item Purchased', data: { name: 'Mat', revenue: 14.99 }, timestamp: 1354408212 },
    ],
    [
      "properties are passed as sent (nested values, string revenue; types are User.com's business)",
      {
        event: 'Purchased an Item',
        properties: { revenue: '39.95', items: [{ sku: 'a' }], meta: { a: { b: 1 } } },
      },
      {
        name: 'Purchased an Item',
        data: { revenue: '39.95', items: [{ sku: 'a' }], meta: { a: { b: 1 } } },
        timestamp: 1709294400,
      },
    ],
    [
      'no properties: empty data',
      { event: 'Signed Up' },
      { name: 'Signed Up', data: {}, timestamp: 1709294400 },
    ],
    [
      'seconds are rounded down',
      { event: 'E', timestamp: '2024-01-01T00:00:00.999Z' },
      { name: 'E', data: {}, timestamp: 1704067200 },
    ],
    [
      'Engage "Audience Entered" is an ordinary event',
      {
        event: 'Audience Entered',
        properties: { audience_key: 'first_time_shopper', first_time_shopper: true },
      },
      {
        name: 'Audience Entered',
        data: { audience_key: 'first_time_shopper', first_time_shopper: true },
        timestamp: 1709294400,
      },
    ],
    [
      'Engage "Audience Exited" is an ordinary event',
      {
        event: 'Audience Exited',
        properties: { audience_key: 'first_time_shopper', first_time_shopper: false },
      },
      {
        name: 'Audience Exited',
        data: { audience_key: 'first_time_shopper', first_time_shopper: false },
        timestamp: 1709294400,
      },
    ],
  ])('%s', (_name, raw, body) => {
    const plan = planEvent(event({ type: 'track', userId: 'u1', ...raw }), [])
    expect(plan.steps).toEqual([
      { op: 'resolve_user', key: 'user', customId: 'u1', needUserKey: false },
      { op: 'create_event', key: 'event', customId: 'u1', body },
    ])
    expect(plan.dropped).toEqual([])
  })

  it.each(
    SPEC_FIXTURES.filter(f => f.name.startsWith('9.4') && f.body.type === 'track').map(
      f => [f.name, f] as const,
    ),
  )('%s: an event with the same name and properties', (_name, fixture) => {
    const input = fixtureEvents(fixture)[0]!
    if (input.type !== 'track') throw new Error('not a track')
    const body = step(planEvent(input, []), 'create_event').body
    expect(body.name).toBe(input.event)
    expect(body.data).toEqual(input.properties)
  })
})
