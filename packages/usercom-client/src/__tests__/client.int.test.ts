import { describe, expect, it } from '@jest/globals'
import { useClientSuite } from './helpers'

const suite = useClientSuite()
const { responses, client } = suite

describe('methods', () => {
  it('upserts users and reads them by id and by custom id (404 → null)', async () => {
    const c = client()
    const created = await c.upsertUser({ custom_id: 'u-1', email: 'ada@example.com', first_name: 'Ada' })
    expect(created).toEqual({ created: true, id: expect.any(Number) })
    expect(await c.upsertUser({ custom_id: 'u-1', last_name: 'L' })).toEqual({
      created: false,
      id: created.id,
    })
    const user = await c.getUser(created.id)
    expect(user).toMatchObject({ id: created.id, custom_id: 'u-1', email: 'ada@example.com', last_name: 'L' })
    expect(user?.user_key).toMatch(/^[a-z0-9]{12}$/)
    expect(await c.getUserByCustomId('u-1')).toMatchObject({ id: created.id })
    expect(await c.getUser(99_999)).toBeNull()
    expect(await c.getUserByCustomId('nobody')).toBeNull()
  })

  it('URL-encodes custom ids in paths; ids that could change the path are refused before any request', async () => {
    const c = client()
    for (const customId of ['x+y@example.com', 'with space', "it's(ok)*", 'zażółć']) {
      const { id } = await c.upsertUser({ custom_id: customId })
      expect(await c.getUserByCustomId(customId)).toMatchObject({ id, custom_id: customId })
      await c.createCompany({ custom_id: customId })
      expect(await c.getCompanyByCustomId(customId)).toMatchObject({ custom_id: customId })
      expect(await c.updateCompanyByCustomId(customId, { name: 'N' })).toMatchObject({
        custom_id: customId,
        name: 'N',
      })
    }
    // A proxy or server may decode `/`, `?`, `#`, `%` even when encoded (issue 18): never in a path.
    const requestsBefore = JSON.stringify(await suite.sim.admin.requests())
    for (const customId of ['a/b', 'hash#tag?q=1', '100%']) {
      await expect(c.getUserByCustomId(customId)).rejects.toMatchObject({ code: 'UC_ERR_INVALID_PATH' })
      await expect(c.getCompanyByCustomId(customId)).rejects.toMatchObject({ code: 'UC_ERR_INVALID_PATH' })
    }
    expect(JSON.stringify(await suite.sim.admin.requests())).toBe(requestsBefore)
  })

  it('works with a base URL without the trailing slash', async () => {
    const c = client({ baseUrl: suite.sim.baseUrl.replace(/\/$/, '') })
    expect((await c.upsertUser({ custom_id: 'u' })).created).toBe(true)
  })

  it('lists attributes across pages by following next, and creates them', async () => {
    await suite.sim.admin.seedAttributes({
      app: 'acme',
      attributes: Array.from({ length: 230 }, (_, i) => ({ name: `a${i}` })),
    })
    const c = client()
    const created = await c.createAttribute({
      name: 'Favorite Color',
      content_type: 'clientuser',
      value_type: 'string',
    })
    expect(created).toMatchObject({
      name_std: 'favorite_color',
      value_type: 'string',
      content_type: 'clientuser',
    })
    const all = await c.listAttributes()
    expect(all).toHaveLength(231)
    expect(all.map(a => a.name_std)).toContain('favorite_color')
    expect(await suite.sim.admin.requestCount('GET /attributes/', { app: 'acme', status: 200 })).toBe(3)
  })

  it('creates events and site views', async () => {
    const c = client()
    const { id } = await c.upsertUser({ custom_id: 'u' })
    expect(
      await c.createEvent({ user_id: id, name: 'Paid', data: { amount: 5 }, timestamp: 1_700_000_000 }),
    ).toEqual({
      id: expect.any(Number),
      created: true,
    })
    const user = await c.getUser(id)
    const view = await c.createSiteView({
      client_user: user?.user_key ?? '',
      page_domain: 'https://example.com',
      page_path: '/docs?x=1',
      timestamp: '2024-01-01T00:00:00.000Z',
      page_title: 'Docs',
    })
    expect(view).toEqual({ id: expect.any(Number) })
    expect((await c.getUser(id))?.page_views).toBe(1)
  })

  it('creates, reads and updates companies and adds members idempotently', async () => {
    const c = client()
    const { id: userId } = await c.upsertUser({ custom_id: 'u' })
    const company = await c.createCompany({ custom_id: 'g-1', name: 'Acme' })
    expect(company).toMatchObject({ id: expect.any(Number), custom_id: 'g-1', name: 'Acme' })
    expect(await c.getCompanyByCustomId('g-1')).toMatchObject({ id: company.id })
    expect(await c.getCompanyByCustomId('g-2')).toBeNull()
    expect(await c.updateCompanyByCustomId('g-1', { city: 'Kraków' })).toMatchObject({
      id: company.id,
      city: 'Kraków',
    })
    expect(await c.updateCompanyByCustomId('g-2', { city: 'x' })).toBeNull()
    await c.addCompanyMember(company.id, { user_id: userId, user_custom_id: 'u' })
    await c.addCompanyMember(company.id, { user_id: userId, user_custom_id: 'u' })
    expect((await c.getCompanyByCustomId('g-1'))?.employees).toEqual([userId])
  })

  it('reports every response to onResponse and awaits the rate limiter before every request', async () => {
    let acquired = 0
    const c = client({ rateLimiter: { acquire: async () => void (acquired += 1) } })
    await c.upsertUser({ custom_id: 'u' })
    await c.getUserByCustomId('none')
    await c.listAttributes()
    expect(acquired).toBe(3)
    expect(responses.map(r => [r.endpoint, r.status])).toEqual([
      ['POST /users/update_or_create/', 200],
      ['GET /users-by-id/:custom_id/', 404],
      ['GET /attributes/', 200],
    ])
    expect(responses.every(r => typeof r.durationMs === 'number' && r.durationMs >= 0)).toBe(true)
  })
})
