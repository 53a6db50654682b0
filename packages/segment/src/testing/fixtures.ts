import type { EventType } from '../schema'

// The request bodies and events of segment-spec.md §9 (copied from Segment's docs), for tests of
// every package that takes Segment input. `route` says how the body arrives: a single-event route
// (its type overrides the body's), a batch route, or `event` (a complete event as Segment delivers
// it downstream, e.g. through a webhook). The `###` placeholders of the Engage examples are
// replaced by real-looking ids, as the spec suggests.

export interface SpecFixture {
  /** Where it is in segment-spec.md §9, and what it is. */
  name: string
  route: EventType | 'batch' | 'event'
  body: Record<string, unknown>
}

const UA_CHROME_40 =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36'

/** Envelope E of §9.2, shared by the page, screen, group and alias examples. */
const envelope = {
  channel: 'browser',
  context: { ip: '8.8.8.8', userAgent: UA_CHROME_40 },
  integrations: { All: true, Mixpanel: false, Salesforce: false },
  messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
  receivedAt: '2015-02-23T22:28:55.387Z',
  sentAt: '2015-02-23T22:28:55.111Z',
  timestamp: '2015-02-23T22:28:55.111Z',
  version: '1.1',
}

const personas = (computationClass: string, computationId: string) => ({
  personas: {
    computation_class: computationClass,
    computation_id: computationId,
    computation_key: 'aud_2djnfxHHnYGVQfOAEBroQ9Ti87N',
    namespace: 'spa_w5akyCbmNn9gYdzCtPeJcC',
    space_id: 'spa_w5akyCbmNn9gYdzCtPeJcC',
  },
})

export const SPEC_FIXTURES: readonly SpecFixture[] = [
  // §9.1 HTTP API request bodies
  {
    name: '9.1 POST /v1/identify',
    route: 'identify',
    body: {
      userId: '019mr8mf4r',
      traits: { email: 'pgibbons@example.com', name: 'Peter Gibbons', industry: 'Technology' },
      context: { ip: '24.5.68.47' },
      timestamp: '2012-12-02T00:30:08.276Z',
      writeKey: 'YOUR_WRITE_KEY',
    },
  },
  {
    name: '9.1 POST /v1/track',
    route: 'track',
    body: {
      userId: '019mr8mf4r',
      event: 'Item Purchased',
      properties: { name: 'Leap to Conclusions Mat', revenue: 14.99 },
      context: { ip: '24.5.68.47' },
      timestamp: '2012-12-02T00:30:12.984Z',
      writeKey: 'YOUR_WRITE_KEY',
    },
  },
  {
    name: '9.1 POST /v1/page',
    route: 'page',
    body: {
      userId: '019mr8mf4r',
      name: 'Tracking HTTP API',
      timestamp: '2012-12-02T00:31:29.738Z',
      writeKey: 'YOUR_WRITE_KEY',
    },
  },
  {
    name: '9.1 POST /v1/screen',
    route: 'screen',
    body: {
      userId: '019mr8mf4r',
      name: 'Tracking HTTP API',
      timestamp: '2012-12-02T00:31:29.738Z',
      writeKey: 'YOUR_WRITE_KEY',
    },
  },
  {
    name: '9.1 POST /v1/group',
    route: 'group',
    body: {
      userId: '019mr8mf4r',
      groupId: '8e9df332ac',
      traits: { name: 'Initech', industry: 'Technology', employees: 420 },
      timestamp: '2012-12-02T00:31:38.208Z',
      writeKey: 'YOUR_WRITE_KEY',
    },
  },
  {
    name: '9.1 POST /v1/alias',
    route: 'alias',
    body: {
      previousId: '39239-239239-239239-23923',
      userId: '019mr8mf4r',
      timestamp: '2012-12-02T00:31:29.738Z',
      writeKey: 'YOUR_WRITE_KEY',
    },
  },
  {
    name: '9.1 POST /v1/track (body writeKey, no type field)',
    route: 'track',
    body: {
      event: 'happy-path-a3ef8a6f-0482-4694-bc4d-4afba03a0eab',
      email: 'test@example.org',
      userId: '123',
      writeKey: 'DmBXIN4JnwqBnTqXccTF0wBnLXNQmFtk',
    },
  },
  {
    name: '9.1 POST /v1/batch (unpadded dates, batch-level context)',
    route: 'batch',
    body: {
      batch: [
        {
          type: 'identify',
          userId: '019mr8mf4r',
          traits: { email: 'jake@yahoo.com', name: 'Jake Peterson', age: 26 },
          timestamp: '2012-12-02T00:30:08.276Z',
        },
        {
          type: 'track',
          userId: '019mr8mf4r',
          event: 'Song Played',
          properties: { name: 'Fallin for You', artist: 'Dierks Bentley' },
          timestamp: '2012-12-02T00:30:12.984Z',
        },
        {
          type: 'identify',
          userId: '971mj8mk7p',
          traits: { email: 'cindy@example.com', name: 'Cindy Gonzalez', age: 23 },
          timestamp: '2015-2-02T00:30:08.276Z',
        },
        {
          type: 'track',
          userId: '971mj8mk7p',
          event: 'Song Played',
          properties: { name: 'Get Right', artist: 'Jennifer Lopez' },
          timestamp: '2015-2-02T00:30:12.984Z',
        },
      ],
      writeKey: 'YOUR_WRITE_KEY',
      context: { device: { type: 'phone', name: 'Apple iPhone 6' } },
    },
  },
  // §9.2 complete spec examples (as delivered downstream)
  {
    name: '9.2 identify',
    route: 'event',
    body: {
      anonymousId: '507f191e810c19729de860ea',
      channel: 'browser',
      context: { ip: '8.8.8.8', userAgent: UA_CHROME_40 },
      integrations: { All: false, Mixpanel: true, Salesforce: true },
      messageId: '022bb90c-bbac-11e4-8dfc-aa07a5b093db',
      receivedAt: '2015-02-23T22:28:55.387Z',
      sentAt: '2015-02-23T22:28:55.111Z',
      timestamp: '2015-02-23T22:28:55.111Z',
      traits: {
        name: 'Peter Gibbons',
        email: 'peter@example.com',
        plan: 'premium',
        logins: 5,
        address: {
          street: '6th St',
          city: 'San Francisco',
          state: 'CA',
          postalCode: '94103',
          country: 'USA',
        },
      },
      type: 'identify',
      userId: '97980cfea0067',
      version: '1.1',
    },
  },
  {
    name: '9.2 track',
    route: 'event',
    body: {
      anonymousId: '23adfd82-aa0f-45a7-a756-24f2a7a4c895',
      context: {
        library: { name: 'analytics.js', version: '2.11.1' },
        page: {
          path: '/academy/',
          referrer: '',
          search: '',
          title: 'Analytics Academy',
          url: 'https://segment.com/academy/',
        },
        userAgent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36',
        ip: '108.0.78.21',
      },
      event: 'Course Clicked',
      integrations: {},
      messageId: 'ajs-f8ca1e4de5024d9430b3928bd8ac6b96',
      properties: { title: 'Intro to Analytics' },
      receivedAt: '2015-12-12T19:11:01.266Z',
      sentAt: '2015-12-12T19:11:01.169Z',
      timestamp: '2015-12-12T19:11:01.249Z',
      type: 'track',
      userId: 'AiUGstSDIg',
      originalTimestamp: '2015-12-12T19:11:01.152Z',
    },
  },
  {
    name: '9.2 page',
    route: 'event',
    body: {
      ...envelope,
      anonymousId: '507f191e810c19729de860ea',
      name: 'Home',
      properties: { title: 'Welcome | Initech', url: 'http://www.example.com' },
      type: 'page',
      userId: '97980cfea0067',
    },
  },
  {
    name: '9.2 screen',
    route: 'event',
    body: {
      ...envelope,
      channel: 'mobile',
      context: { ip: '8.8.8.8' },
      anonymousId: '3a12eab0-bca7-11e4-8dfc-aa07a5b093db',
      name: 'Home',
      properties: { variation: 'blue signup button' },
      type: 'screen',
      userId: '97980cfea0067',
    },
  },
  {
    name: '9.2 group',
    route: 'event',
    body: {
      ...envelope,
      anonymousId: '507f191e810c19729de860ea',
      traits: {
        name: 'Initech',
        industry: 'Technology',
        employees: 329,
        plan: 'enterprise',
        'total billed': 830,
      },
      type: 'group',
      userId: '97980cfea0067',
      groupId: '0e8c78ea9d97a7b8185e8632',
    },
  },
  {
    name: '9.2 alias',
    route: 'event',
    body: {
      ...envelope,
      anonymousId: '507f191e810c19729de860ea',
      previousId: '39239-239239-239239-23923',
      type: 'alias',
      userId: '507f191e81',
    },
  },
  // §9.3 real forwarded analytics.js event
  {
    name: '9.3 forwarded analytics.js page',
    route: 'event',
    body: {
      _metadata: { bundled: ['Segment.io'], unbundled: ['Facebook Pixel'] },
      anonymousId: '3d316d2c-26e8-451f-91be-a0766708c81e',
      category: null,
      channel: 'client',
      context: {
        ip: '67.160.210.48',
        library: { name: 'analytics.js', version: '3.8.2' },
        page: {
          path: '/index.html',
          referrer: '',
          search: '',
          title: '',
          url: 'https://example.com/index.html',
        },
        userAgent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.100 Safari/537.36',
      },
      integrations: {},
      messageId: 'ajs-472682d0fbe3250d9e436f18e18d1966',
      name: 'Home',
      originalTimestamp: '2019-06-21T17:36:42.787Z',
      projectId: 'P0OJ3CTID1',
      properties: {
        name: 'Home',
        path: '/index.html',
        referrer: '',
        search: '',
        title: '',
        url: 'https://example.com/index.html',
      },
      receivedAt: '2019-06-21T17:36:42.812Z',
      sentAt: '2019-06-21T17:36:42.787Z',
      timestamp: '2019-06-21T17:36:42.812Z',
      type: 'page',
      userId: '97980cfea0067',
      version: 2,
    },
  },
  // §9.4 Engage
  {
    name: '9.4 Engage audience identify',
    route: 'event',
    body: {
      context: personas('audience', 'aud_2djnfxHHnYGVQfOAEBroQ9Ti87N'),
      type: 'identify',
      userId: 'u123',
      traits: { first_time_shopper: true },
    },
  },
  {
    name: '9.4 Engage Audience Entered track',
    route: 'event',
    body: {
      context: personas('audience', 'aud_2djnfxHHnYGVQfOAEBroQ9Ti87N'),
      type: 'track',
      userId: 'u123',
      event: 'Audience Entered',
      properties: { audience_key: 'first_time_shopper', first_time_shopper: true },
    },
  },
  {
    name: '9.4 Engage Trait Computed track',
    route: 'event',
    body: {
      context: personas('trait', 'tra_2djnfyW0ZJ9JSd5ngHmh1YzWYqO'),
      type: 'track',
      event: 'Trait Computed',
      userId: 'u123',
      properties: { trait_key: 'total_revenue_180_days', total_revenue_180_days: 450.0 },
    },
  },
  {
    name: '9.4 Engage Audience Entered track with context.traits',
    route: 'event',
    body: {
      anonymousId: 'anon-test-1',
      context: { traits: { email: 'user@example.com' } },
      event: 'Audience Entered',
      properties: {
        audience_key: 'browse_abandoners',
        browse_abandoners: true,
        first_name: 'Jane',
        last_name: 'Doe',
      },
      type: 'track',
      userId: 'user-123',
    },
  },
  {
    name: '9.4 Engage Audience Exited track (exit form)',
    route: 'event',
    body: {
      context: personas('audience', 'aud_2djnfxHHnYGVQfOAEBroQ9Ti87N'),
      type: 'track',
      userId: 'u123',
      event: 'Audience Exited',
      properties: { audience_key: 'first_time_shopper', first_time_shopper: false },
    },
  },
  // §9.5 webhook (classic)
  {
    name: '9.5 webhook track (numeric version, string revenue, no messageId)',
    route: 'event',
    body: {
      version: 1,
      type: 'track',
      userId: '019mr8mf4r',
      event: 'Purchased an Item',
      properties: { revenue: '39.95', shippingMethod: '2-day' },
      timestamp: '2012-12-02T00:30:08.276Z',
    },
  },
]

/**
 * §9.3's user-deletion notice. Not one of this destination's types: normalisation rejects it as
 * an unknown type (the ingest counts and drops it). Its Go-format `originalTimestamp` is why it is here.
 */
export const SPEC_DELETE_NOTICE: Record<string, unknown> = {
  type: 'delete',
  channel: 'server',
  userId: '507f191e81',
  context: null,
  integrations: null,
  messageId: 'delete-reg-6543321::job-2-P0OJ3CTID1',
  projectId: 'P0OJ3CTID1',
  timestamp: '2020-05-09T23:54:49.209Z',
  receivedAt: '2020-05-09T23:54:49.209Z',
  sentAt: '2020-05-09T17:49:00.000Z',
  originalTimestamp: '2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264',
}
