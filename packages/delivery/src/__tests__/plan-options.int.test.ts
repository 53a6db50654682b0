import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { PlanOptions } from '@ucd/mapping'
import { testEvent } from '@ucd/segment/testing'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { createUsercomClient, type UsercomClient } from '@ucd/usercom-client'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { Redis } from 'ioredis'
import { createExecutor } from '../executor'

// A tenant's planning settings (tenants file: pageDomain, screens) reach the plans the executor runs.

const KEY = 'plan-options-key-0123456789abcdef0123456789abcdef0123456789abcdef'
const prefix = uniquePrefix(__filename)
let redis: Redis
let sim: RunningSimulator
let client: UsercomClient

beforeAll(async () => {
  redis = new Redis(testRedisUrl())
  sim = await startSimulator({ keys: [{ key: KEY, app: 'acme' }] })
  client = createUsercomClient({ baseUrl: sim.baseUrl, apiKey: KEY, timeoutMs: 5000 })
})
afterAll(async () => {
  client.close()
  await sim.close()
  await redis.quit()
  await cleanupPrefix(testRedisUrl(), prefix)
})
beforeEach(async () => {
  await sim.admin.reset()
})

const executor = (planOptions?: PlanOptions) =>
  createExecutor({
    tenantId: 'acme',
    client,
    redis,
    keyPrefix: prefix,
    identityTtlSeconds: 3600,
    attributeTtlSeconds: 300,
    ...(planOptions === undefined ? {} : { planOptions }),
  })
const app = async () => (await sim.admin.state('acme')).apps.acme

describe("a tenant's planning settings", () => {
  it('pageDomain: a server-side page with only a path is a page view on that site', async () => {
    const page = testEvent('page', { userId: 'path-user', name: 'Pricing', properties: { path: '/pricing' } })
    const without = await executor().deliver(page)
    expect(without.dropped.map(d => d.field)).toContain('context.page.url')
    expect((await app())?.pageViews).toHaveLength(0)

    await executor({ pageDomain: 'https://www.example.com' }).deliver(page)
    const views = (await app())?.pageViews ?? []
    expect(views).toHaveLength(1)
    expect(views[0]).toMatchObject({ page_domain: 'https://www.example.com', page_path: '/pricing' })
  })

  it('screens: "event" delivers a screen as a `Viewed <name> Screen` occurrence; off skips it', async () => {
    const screen = testEvent('screen', { userId: 'screen-user', name: 'Cart', properties: { items: 2 } })
    const off = await executor({ screens: 'off' }).deliver(screen)
    expect(off.skipped).toMatch(/screen/)
    expect((await app())?.events ?? []).toHaveLength(0)

    const on = await executor({ screens: 'event' }).deliver(screen)
    expect(on.skipped).toBeUndefined()
    const events = (await app())?.events ?? []
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ name: 'Viewed Cart Screen', data: { items: 2 } })
  })
})
