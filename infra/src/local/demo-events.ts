import type { GroupParams, IdentifyParams, PageParams, TrackParams } from '@segment/analytics-node'
import type { SimAppState } from '@ucd/usercom-sim'

// The demo's stream: what a product would send through Segment, per tenant, and how to see each call
// in User.com (the simulator's state) once it was delivered.

export type DemoCall =
  | { type: 'identify'; params: IdentifyParams; expect: UserExpectation }
  | { type: 'track'; params: TrackParams; expect: EventExpectation }
  | { type: 'page'; params: PageParams; expect: PageViewExpectation }
  | { type: 'group'; params: GroupParams; expect: MemberExpectation }

interface UserExpectation {
  kind: 'user'
  customId: string
  email?: string
  /** A custom attribute (name_std) and the value it must hold. */
  attribute?: [string, string | number | boolean]
}
interface EventExpectation {
  kind: 'event'
  customId: string
  name: string
}
interface PageViewExpectation {
  kind: 'pageView'
  customId: string
  path: string
}
interface MemberExpectation {
  kind: 'member'
  groupId: string
  customId: string
}

const BROWSER = {
  ip: '203.0.113.42',
  locale: 'en-GB',
  userAgent:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
}

/** Engage (Personas) marks audience syncs with `context.personas`. */
function personas(audience: string): { personas: Record<string, string> } {
  return {
    personas: {
      computation_class: 'audience',
      computation_id: 'aud_2fKq8Wm3ZrT1xV9',
      computation_key: audience,
      namespace: 'spa_9bX2mQ7wL4',
      space_id: 'spa_9bX2mQ7wL4',
    },
  }
}

/** Tenant one (its key works): two known users, an anonymous visitor, their company. */
export function deliveredStream(run: string): DemoCall[] {
  const ada = `${run}-ada`
  const grace = `${run}-grace`
  const visitor = `${run}-anon-7f3a`
  const company = `${run}-acme-corp`
  const audience = 'high_value_customers'
  return [
    {
      type: 'identify',
      params: {
        userId: ada,
        traits: {
          email: 'ada.lovelace@example.com',
          firstName: 'Ada',
          lastName: 'Lovelace',
          phone: '+48 601 234 567',
          gender: 'female',
          address: {
            street: '12 St James Square',
            city: 'London',
            state: 'England',
            postalCode: 'SW1Y 4JH',
            country: 'GB',
          },
          plan: 'enterprise',
          seats: 25,
          lifetimeValue: 1299.5,
          newsletterOptIn: true,
          signupSource: 'webinar',
        },
        context: { ...BROWSER, timezone: 'Europe/London' },
      },
      expect: {
        kind: 'user',
        customId: ada,
        email: 'ada.lovelace@example.com',
        attribute: ['plan', 'enterprise'],
      },
    },
    {
      type: 'identify',
      params: {
        userId: grace,
        traits: {
          email: 'grace.hopper@example.com',
          firstName: 'Grace',
          lastName: 'Hopper',
          phone: '+1 415 555 0132',
          gender: 'female',
          address: {
            street: '500 Terry Francine St',
            city: 'San Francisco',
            state: 'CA',
            postalCode: '94158',
            country: 'US',
          },
          plan: 'pro',
          seats: 5,
          signupSource: 'organic',
        },
        context: { ...BROWSER, locale: 'en-US', timezone: 'America/Los_Angeles' },
      },
      expect: { kind: 'user', customId: grace, email: 'grace.hopper@example.com' },
    },
    {
      // Engage audience sync: a snake_cased boolean trait named after the audience.
      type: 'identify',
      params: { userId: ada, traits: { [audience]: true }, context: personas(audience) },
      expect: { kind: 'user', customId: ada, attribute: [audience, true] },
    },
    {
      type: 'track',
      params: {
        userId: ada,
        event: 'Audience Entered',
        properties: { audience_key: audience, [audience]: true },
        context: personas(audience),
      },
      expect: { kind: 'event', customId: ada, name: 'Audience Entered' },
    },
    {
      type: 'track',
      params: {
        userId: ada,
        event: 'Product Viewed',
        properties: { product_id: 'sku-3021', name: 'Analytical Engine', price: 1299.5, currency: 'EUR' },
        context: BROWSER,
      },
      expect: { kind: 'event', customId: ada, name: 'Product Viewed' },
    },
    {
      type: 'track',
      params: {
        userId: ada,
        event: 'Order Completed',
        properties: {
          order_id: 'ord-8812',
          revenue: 1299.5,
          currency: 'EUR',
          products: [{ product_id: 'sku-3021', quantity: 1, price: 1299.5 }],
        },
      },
      expect: { kind: 'event', customId: ada, name: 'Order Completed' },
    },
    {
      type: 'track',
      params: { userId: grace, event: 'Signed Up', properties: { plan: 'pro', trial_days: 14 } },
      expect: { kind: 'event', customId: grace, name: 'Signed Up' },
    },
    {
      type: 'page',
      params: {
        userId: ada,
        name: 'Pricing',
        category: 'Marketing',
        context: {
          ...BROWSER,
          page: {
            url: 'https://www.example.com/pricing?plan=enterprise',
            path: '/pricing',
            title: 'Pricing | Example',
            referrer: 'https://www.google.com/',
          },
        },
      },
      expect: { kind: 'pageView', customId: ada, path: '/pricing' },
    },
    {
      type: 'page',
      params: {
        anonymousId: visitor,
        name: 'Home',
        context: {
          ...BROWSER,
          page: {
            url: 'https://www.example.com/',
            path: '/',
            title: 'Example: analytical engines',
            referrer: 'https://news.ycombinator.com/',
          },
        },
      },
      expect: { kind: 'pageView', customId: visitor, path: '/' },
    },
    {
      type: 'group',
      params: {
        userId: ada,
        groupId: company,
        traits: {
          name: 'Acme Corporation',
          employees: 420,
          industry: 'Manufacturing',
          plan: 'enterprise',
          website: 'https://acme.example.com',
          address: {
            street: '1 Infinite Loop',
            city: 'Cupertino',
            state: 'CA',
            postalCode: '95014',
            country: 'US',
          },
        },
      },
      expect: { kind: 'member', groupId: company, customId: ada },
    },
    {
      type: 'group',
      params: { userId: grace, groupId: company, traits: { name: 'Acme Corporation' } },
      expect: { kind: 'member', groupId: company, customId: grace },
    },
  ]
}

/** Tenant two (its key is revoked during the demo): one user, each call type once. */
export function revokedStream(run: string): DemoCall[] {
  const hank = `${run}-hank`
  const company = `${run}-globex-corp`
  return [
    {
      type: 'identify',
      params: {
        userId: hank,
        traits: {
          email: 'hank.scorpio@example.com',
          firstName: 'Hank',
          lastName: 'Scorpio',
          gender: 'male',
          phone: '+1 650 253 0000',
          address: { city: 'Cypress Creek', state: 'OR', country: 'US' },
          plan: 'business',
        },
        context: BROWSER,
      },
      expect: { kind: 'user', customId: hank, email: 'hank.scorpio@example.com' },
    },
    {
      type: 'track',
      params: { userId: hank, event: 'Subscription Started', properties: { plan: 'business', seats: 120 } },
      expect: { kind: 'event', customId: hank, name: 'Subscription Started' },
    },
    {
      type: 'page',
      params: {
        userId: hank,
        name: 'Dashboard',
        context: {
          page: {
            url: 'https://app.globex.example/dashboard',
            path: '/dashboard',
            title: 'Dashboard | Globex',
            referrer: 'https://www.globex.example/',
          },
        },
      },
      expect: { kind: 'pageView', customId: hank, path: '/dashboard' },
    },
    {
      type: 'group',
      params: {
        userId: hank,
        groupId: company,
        traits: {
          name: 'Globex Corporation',
          employees: 1200,
          industry: 'Energy',
          address: { city: 'Cypress Creek', country: 'US' },
        },
      },
      expect: { kind: 'member', groupId: company, customId: hank },
    },
  ]
}

/** Whether one call's effect is visible in an app's state. */
export function isDelivered(call: DemoCall, app: SimAppState | undefined): boolean {
  if (!app) return false
  const userOf = (customId: string) => app.users.find(u => u.custom_id === customId)
  const expectation = call.expect
  switch (expectation.kind) {
    case 'user': {
      const user = userOf(expectation.customId)
      if (!user) return false
      if (expectation.email !== undefined && user.email !== expectation.email) return false
      if (expectation.attribute) {
        const [name, value] = expectation.attribute
        return String(user.attributes[name]) === String(value)
      }
      return true
    }
    case 'event': {
      const user = userOf(expectation.customId)
      return user !== undefined && app.events.some(e => e.user_id === user.id && e.name === expectation.name)
    }
    case 'pageView': {
      const user = userOf(expectation.customId)
      return (
        user !== undefined &&
        app.pageViews.some(v => v.user_id === user.id && v.page_path === expectation.path)
      )
    }
    case 'member': {
      const user = userOf(expectation.customId)
      const company = app.companies.find(c => c.custom_id === expectation.groupId)
      return user !== undefined && company !== undefined && company.members.includes(user.id)
    }
  }
}

/** A one-line description of a call, for "still waiting for ..." messages. */
export function describeCall(call: DemoCall): string {
  const expectation = call.expect
  switch (expectation.kind) {
    case 'user':
      return `identify ${expectation.customId}`
    case 'event':
      return `track "${expectation.name}" of ${expectation.customId}`
    case 'pageView':
      return `page ${expectation.path} of ${expectation.customId}`
    case 'member':
      return `group ${expectation.groupId} <- ${expectation.customId}`
  }
}
