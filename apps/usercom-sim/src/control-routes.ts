import type { FastifyInstance, FastifyReply } from 'fastify'
import type { z } from 'zod'
import { addAttribute } from './attributes'
import { eventReport } from './inspect'
import { parseId } from './results'
import { FailNextSchema, FaultsPatchSchema, SeedAttributesSchema, SimKeySchema } from './schema'
import type { World } from './world'

// The control routes under `/__sim` (no auth, JSON): state, faults, targeted failures, keys,
// catalog seeding and event introspection.

const detail = (message: string): { detail: string } => ({ detail: message })

const invalid = (reply: FastifyReply, error: z.ZodError): FastifyReply =>
  reply.code(400).send({
    detail: 'Invalid simulator control request.',
    issues: error.issues.map(i => ({ path: i.path.join('.'), message: i.message })),
  })

export function registerControlRoutes(app: FastifyInstance, world: World): void {
  const query = (request: { query: unknown }): Record<string, string | undefined> =>
    request.query as Record<string, string | undefined>

  app.get('/__sim/health', () => ({ status: 'ok' }))
  app.get('/__sim/state', request => world.snapshot(query(request).app))
  app.get('/__sim/summary', () => world.summary())
  app.post('/__sim/reset', () => {
    world.reset()
    return { reset: true }
  })
  app.get('/__sim/faults', () => world.faults.current())
  app.put('/__sim/faults', async (request, reply) => {
    const parsed = FaultsPatchSchema.safeParse(request.body ?? {})
    return parsed.success ? world.faults.update(parsed.data) : invalid(reply, parsed.error)
  })
  app.post('/__sim/fail-next', async (request, reply) => {
    const parsed = FailNextSchema.safeParse(request.body ?? {})
    if (!parsed.success) return invalid(reply, parsed.error)
    world.faults.addRule(parsed.data)
    return reply.code(201).send(parsed.data)
  })
  app.delete('/__sim/fail-next', () => {
    world.faults.clearRules()
    return { cleared: true }
  })
  app.post('/__sim/keys', async (request, reply) => {
    const parsed = SimKeySchema.safeParse(request.body ?? {})
    if (!parsed.success) return invalid(reply, parsed.error)
    world.keys.set(parsed.data.key, { ...parsed.data })
    world.appFor(parsed.data.app)
    return reply.code(201).send({ app: parsed.data.app, revoked: parsed.data.revoked })
  })
  for (const action of ['revoke', 'restore'] as const) {
    app.post(`/__sim/keys/${action}`, async (request, reply) => {
      const parsed = SimKeySchema.pick({ key: true }).safeParse(request.body ?? {})
      if (!parsed.success) return invalid(reply, parsed.error)
      const key = world.keys.get(parsed.data.key)
      if (!key) return reply.code(404).send(detail('Unknown key.'))
      key.revoked = action === 'revoke'
      return { app: key.app, revoked: key.revoked }
    })
  }
  app.post('/__sim/attributes', async (request, reply) => {
    const parsed = SeedAttributesSchema.safeParse(request.body ?? {})
    if (!parsed.success) return invalid(reply, parsed.error)
    const data = world.appFor(parsed.data.app).data
    const created = []
    for (const attribute of parsed.data.attributes) {
      const result = addAttribute(data, attribute)
      if (typeof result === 'string') return reply.code(400).send(detail(`${attribute.name}: ${result}`))
      created.push(result)
    }
    return reply.code(201).send({ attributes: created })
  })
  app.get('/__sim/events', async (request, reply) => {
    const { app: name, custom_id: customId, user_id: rawUserId } = query(request)
    const entry = name === undefined ? undefined : world.apps.get(name)
    if (!entry) return reply.code(404).send(detail(`Unknown app ${JSON.stringify(name ?? '')} (give ?app=).`))
    if (customId === undefined && rawUserId === undefined) return eventReport(entry.data)
    const userId = rawUserId === undefined ? undefined : parseId(rawUserId)
    const user =
      customId !== undefined
        ? entry.data.usersByCustomId.get(customId)
        : userId === undefined
          ? undefined
          : entry.data.users.get(userId)
    if (!user) return reply.code(404).send(detail('Unknown user.'))
    return eventReport(entry.data, user)
  })
}
