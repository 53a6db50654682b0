import type { Logger } from '@ucd/logger'
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import type { z } from 'zod'
import { AppData, type ApiResult } from './app-data'
import { FaultController } from './faults'
import { createPrng, type Prng } from './prng'
import {
  FailNextSchema,
  FaultsPatchSchema,
  SeedAttributesSchema,
  SimKeySchema,
  SimOptionsSchema,
  type RequestCounts,
  type SimKey,
  type SimOptionsInput,
  type SimState,
  type SimSummary,
} from './schema'

export interface BuildSimulatorOptions extends SimOptionsInput {
  /** Fastify logs through this logger (startup, errors); requests are not logged one by one. */
  logger?: Logger
  /** Time source (epoch ms); default Date.now. */
  clock?: () => number
}

/** What the API request carried through its lifecycle. */
interface RequestContext {
  /** `POST /events/`: method and route template without the base path. */
  endpoint: string
  app?: string
  /** A targeted rule to apply after the handler ran. */
  after?: z.infer<typeof FailNextSchema>
  dropped?: boolean
}

type Handler = (data: AppData, request: FastifyRequest) => ApiResult
type Params = Record<string, string>

const detail = (message: string): { detail: string } => ({ detail: message })

// The Accept header carries `version=2` on some media range ("*/*; version=2", with or without the space).
function acceptsVersion2(accept: string | undefined): 'ok' | 'missing' | 'other' {
  if (!accept) return 'missing'
  let sawVersion = false
  for (const range of accept.split(',')) {
    for (const param of range.split(';').slice(1)) {
      const [name, value] = param.split('=').map(s => s.trim())
      if (name?.toLowerCase() !== 'version') continue
      sawVersion = true
      if (value === '2' || value === '"2"') return 'ok'
    }
  }
  return sawVersion ? 'other' : 'missing'
}

function bump(counts: RequestCounts, endpoint: string, status: string): void {
  const byStatus = (counts[endpoint] ??= {})
  byStatus[status] = (byStatus[status] ?? 0) + 1
}

/**
 * Builds the User.com simulator: a Fastify instance serving the API under `basePath` (default
 * `/api/public`) and the control routes under `/__sim`. Call `listen()` on it (tests:
 * `listen({ port: 0, host: '127.0.0.1' })`) and `close()` when done.
 */
export function buildSimulator(input: BuildSimulatorOptions = {}): FastifyInstance {
  const { logger, clock = Date.now, ...rest } = input
  const options = SimOptionsSchema.parse(rest)
  const basePath = options.basePath

  let prng: Prng = createPrng(options.seed)
  const faults = new FaultController(
    options.faults,
    { next: () => prng.next(), int: n => prng.int(n) },
    clock,
  )
  let keys = new Map<string, SimKey>()
  let apps = new Map<string, { data: AppData; requests: RequestCounts }>()
  let requests: RequestCounts = {}
  const contexts = new WeakMap<FastifyRequest, RequestContext>()
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>()

  const appFor = (name: string): { data: AppData; requests: RequestCounts } => {
    let app = apps.get(name)
    if (!app) {
      app = {
        data: new AppData(
          name,
          { next: () => prng.next(), int: n => prng.int(n) },
          clock,
          options.maxStoredRecords,
        ),
        requests: {},
      }
      apps.set(name, app)
    }
    return app
  }

  const resetAll = (): void => {
    prng = createPrng(options.seed)
    keys = new Map(options.keys.map(k => [k.key, { ...k }]))
    apps = new Map()
    for (const k of options.keys) appFor(k.app)
    requests = {}
    faults.reset()
  }
  resetAll()

  const sleep = (ms: number): Promise<void> =>
    new Promise(resolve => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry)
          resolve()
        }, ms),
        resolve,
      }
      timers.add(entry)
    })

  // Typed as the base logger so the instance keeps Fastify's default type parameters.
  const loggerInstance: FastifyBaseLogger | undefined = logger
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
  })

  app.addHook('onClose', (_instance, done) => {
    for (const entry of timers) {
      clearTimeout(entry.timer)
      entry.resolve()
    }
    timers.clear()
    done()
  })

  const count = (ctx: RequestContext | undefined, endpoint: string, status: string): void => {
    bump(requests, endpoint, status)
    if (ctx?.app) bump(appFor(ctx.app).requests, endpoint, status)
  }

  const drop = (request: FastifyRequest, reply: FastifyReply, ctx: RequestContext): FastifyReply => {
    ctx.dropped = true
    count(ctx, ctx.endpoint, 'dropped')
    reply.hijack()
    request.raw.socket.destroy()
    return reply
  }

  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/__sim')) return
    const ctx = contexts.get(request)
    if (ctx?.dropped) return
    count(ctx, ctx?.endpoint ?? '(unmatched)', String(reply.statusCode))
  })

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send(detail('Not found.')))

  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) request.log.error({ err: error }, 'simulator error')
    const message = status >= 500 ? 'Internal server error.' : error.message
    return reply
      .code(status)
      .send(status === 400 ? { errors: { non_field_errors: [message] } } : detail(message))
  })

  // ----- the API

  const routes: [method: 'GET' | 'POST' | 'PUT', route: string, handler: Handler][] = [
    ['POST', '/users/update_or_create/', (d, r) => d.upsertUser(r.body)],
    ['GET', '/users/:id/', (d, r) => d.getUser((r.params as Params).id ?? '')],
    ['GET', '/users-by-id/:custom_id/', (d, r) => d.getUserByCustomId((r.params as Params).custom_id ?? '')],
    [
      'GET',
      '/attributes/',
      (d, r) => {
        const page = (r.query as Record<string, string | undefined>).page
        const origin = `${r.protocol}://${r.host}`
        return d.listAttributes(page, options.pageSize, n => `${origin}${basePath}/attributes/?page=${n}`)
      },
    ],
    ['POST', '/attributes/', (d, r) => d.createAttribute(r.body)],
    ['POST', '/events/', (d, r) => d.createEvent(r.body)],
    ['POST', '/site-views/', (d, r) => d.createSiteView(r.body)],
    ['POST', '/companies/', (d, r) => d.createCompany(r.body)],
    ['GET', '/companies/:id/', (d, r) => d.getCompany((r.params as Params).id ?? '')],
    ['PUT', '/companies/:id/', (d, r) => d.updateCompanyById((r.params as Params).id ?? '', r.body)],
    [
      'GET',
      '/companies-by-id/:custom_id/',
      (d, r) => d.getCompanyByCustomId((r.params as Params).custom_id ?? ''),
    ],
    [
      'PUT',
      '/companies-by-id/:custom_id/',
      (d, r) => d.updateCompanyByCustomId((r.params as Params).custom_id ?? '', r.body),
    ],
    ['POST', '/companies/:id/add_member/', (d, r) => d.addMember((r.params as Params).id ?? '', r.body)],
  ]

  const gate = async (
    request: FastifyRequest,
    reply: FastifyReply,
    route: string,
  ): Promise<FastifyReply | undefined> => {
    const ctx: RequestContext = { endpoint: `${request.method} ${route}` }
    contexts.set(request, ctx)

    const latency = faults.latencyMs()
    if (latency > 0) await sleep(latency)

    const auth = request.headers.authorization
    const match = auth ? /^Token\s+(\S+)\s*$/.exec(auth) : null
    if (!match) return reply.code(401).send(detail('Authentication credentials were not provided.'))
    const key = keys.get(match[1] ?? '')
    if (!key) return reply.code(401).send(detail('Invalid token.'))
    ctx.app = key.app
    if (key.revoked)
      return reply
        .code(403)
        .send(detail('API key revoked. You do not have permission to perform this action.'))

    const version = acceptsVersion2(request.headers.accept)
    if (version !== 'ok') {
      const message =
        version === 'missing'
          ? 'API version missing: send "Accept: */*; version=2".'
          : 'Unsupported API version: send "Accept: */*; version=2".'
      return reply.code(400).send({ detail: message, errors: { accept: [message] } })
    }

    const rule = faults.takeRule(request.method, route, key.app)
    if (rule) {
      if (rule.delayMs > 0) await sleep(rule.delayMs)
      if (rule.phase === 'after') ctx.after = rule
      else if (rule.drop) return drop(request, reply, ctx)
      else if (rule.status !== undefined) {
        if (rule.retryAfter !== undefined) void reply.header('retry-after', rule.retryAfter)
        return reply.code(rule.status).send(detail(`Simulated failure (${rule.status}).`))
      }
    }

    const decision = faults.decide(key.app)
    if (decision.kind === 'drop') return drop(request, reply, ctx)
    if (decision.kind === 'status') {
      if (decision.retryAfter !== undefined) void reply.header('retry-after', decision.retryAfter)
      return reply.code(decision.status).send(detail(decision.detail))
    }
    return undefined
  }

  for (const [method, route, handler] of routes) {
    app.route({
      method,
      url: `${basePath}${route}`,
      onRequest: async (request, reply) => gate(request, reply, route),
      onSend: async (request, reply, payload) => {
        const rule = contexts.get(request)?.after
        if (!rule || reply.statusCode >= 400) return payload
        const ctx = contexts.get(request)
        if (rule.drop && ctx) {
          ctx.dropped = true
          count(ctx, ctx.endpoint, 'dropped')
          request.raw.socket.destroy()
          return payload
        }
        if (rule.status === undefined) return payload
        void reply.code(rule.status)
        if (rule.retryAfter !== undefined) void reply.header('retry-after', rule.retryAfter)
        return JSON.stringify(detail(`Simulated failure (${rule.status}).`))
      },
      handler: async (request, reply) => {
        const ctx = contexts.get(request)
        const result = handler(appFor(ctx?.app ?? '').data, request)
        return reply.code(result.status).send(result.body)
      },
    })
  }

  // ----- control routes (no auth)

  const invalid = (reply: FastifyReply, error: z.ZodError): FastifyReply =>
    reply.code(400).send({
      detail: 'Invalid simulator control request.',
      issues: error.issues.map(i => ({ path: i.path.join('.'), message: i.message })),
    })

  const snapshot = (only?: string): SimState => {
    const out: SimState['apps'] = {}
    for (const [name, entry] of apps) {
      if (only === undefined || only === name) out[name] = entry.data.snapshot(entry.requests)
    }
    return {
      apps: out,
      requests: structuredClone(requests),
      faults: faults.current(),
      pendingFailures: faults.pending(),
      keys: [...keys.values()].map(k => ({ app: k.app, hint: `…${k.key.slice(-4)}`, revoked: k.revoked })),
    }
  }

  app.get('/__sim/health', () => ({ status: 'ok' }))
  app.get('/__sim/state', request => snapshot((request.query as Record<string, string | undefined>).app))
  app.get('/__sim/summary', (): SimSummary => {
    const out: SimSummary['apps'] = {}
    for (const [name, entry] of apps)
      out[name] = { totals: entry.data.totals(), requests: structuredClone(entry.requests) }
    return { apps: out, requests: structuredClone(requests) }
  })
  app.post('/__sim/reset', () => {
    resetAll()
    return { reset: true }
  })
  app.get('/__sim/faults', () => faults.current())
  app.put('/__sim/faults', async (request, reply) => {
    const parsed = FaultsPatchSchema.safeParse(request.body ?? {})
    return parsed.success ? faults.update(parsed.data) : invalid(reply, parsed.error)
  })
  app.post('/__sim/fail-next', async (request, reply) => {
    const parsed = FailNextSchema.safeParse(request.body ?? {})
    if (!parsed.success) return invalid(reply, parsed.error)
    faults.addRule(parsed.data)
    return reply.code(201).send(parsed.data)
  })
  app.delete('/__sim/fail-next', () => {
    faults.clearRules()
    return { cleared: true }
  })
  app.post('/__sim/keys', async (request, reply) => {
    const parsed = SimKeySchema.safeParse(request.body ?? {})
    if (!parsed.success) return invalid(reply, parsed.error)
    keys.set(parsed.data.key, { ...parsed.data })
    appFor(parsed.data.app)
    return reply.code(201).send({ app: parsed.data.app, revoked: parsed.data.revoked })
  })
  for (const action of ['revoke', 'restore'] as const) {
    app.post(`/__sim/keys/${action}`, async (request, reply) => {
      const parsed = SimKeySchema.pick({ key: true }).safeParse(request.body ?? {})
      if (!parsed.success) return invalid(reply, parsed.error)
      const key = keys.get(parsed.data.key)
      if (!key) return reply.code(404).send(detail('Unknown key.'))
      key.revoked = action === 'revoke'
      return { app: key.app, revoked: key.revoked }
    })
  }
  app.post('/__sim/attributes', async (request, reply) => {
    const parsed = SeedAttributesSchema.safeParse(request.body ?? {})
    if (!parsed.success) return invalid(reply, parsed.error)
    const data = appFor(parsed.data.app).data
    const created = []
    for (const attribute of parsed.data.attributes) {
      const result = data.addAttribute(attribute)
      if (typeof result === 'string') return reply.code(400).send(detail(`${attribute.name}: ${result}`))
      created.push(result)
    }
    return reply.code(201).send({ attributes: created })
  })

  return app
}
