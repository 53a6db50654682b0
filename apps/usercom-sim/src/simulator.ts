import type { Logger } from '@ucd/logger'
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { API_ROUTES } from './api-routes'
import { registerControlRoutes } from './control-routes'
import { SimOptionsSchema, type FailNextRule, type SimOptionsInput } from './schema'
import { World } from './world'

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
  /** Replace (or drop) the response once the handler applied the request: a lost response. */
  after?: { status?: number; drop: boolean; retryAfter?: string }
  dropped?: boolean
  /** What to count instead of the status code (`504-applied`). */
  outcome?: string
}

/** Longest raw path kept as a request-count key of an unknown route. */
const MAX_RAW_PATH = 300

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

function tokenOf(authorization: string | undefined): string | undefined {
  const match = authorization ? /^Token\s+(\S+)\s*$/.exec(authorization) : null
  return match?.[1]
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
  const listing = { pageSize: options.pageSize, eventPageSize: options.eventPageSize, basePath }
  const world = new World(options, clock)
  const { faults } = world
  const contexts = new WeakMap<FastifyRequest, RequestContext>()
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>()

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

  /** The custom id a request is about: its path's `:custom_id`, else its JSON body's `custom_id`. */
  const customIdOf = (request: FastifyRequest): string | undefined => {
    const fromPath = (request.params as Record<string, unknown> | undefined)?.custom_id
    if (typeof fromPath === 'string') return fromPath
    const body = request.body
    if (typeof body !== 'object' || body === null) return undefined
    const fromBody = (body as Record<string, unknown>).custom_id
    return typeof fromBody === 'string' ? fromBody : undefined
  }

  const drop = (request: FastifyRequest, reply: FastifyReply, ctx: RequestContext): FastifyReply => {
    ctx.dropped = true
    world.count(ctx.app, ctx.endpoint, 'dropped')
    reply.hijack()
    request.raw.socket.destroy()
    return reply
  }

  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/__sim')) return
    const ctx = contexts.get(request)
    if (ctx?.dropped) return
    if (ctx) return world.count(ctx.app, ctx.endpoint, ctx.outcome ?? String(reply.statusCode))
    // An unknown route: counted under its raw method and path, in its app when the key is known.
    const path = (request.url.split('?')[0] ?? '').slice(0, MAX_RAW_PATH)
    const key = world.keys.get(tokenOf(request.headers.authorization) ?? '')
    world.count(key?.app, `${request.method} ${path}`, String(reply.statusCode))
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

  /** Acts on a targeted rule: delay, then fail now, or mark the answer to be replaced after the write. */
  const applyRule = async (
    rule: FailNextRule,
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: RequestContext,
  ): Promise<FastifyReply | undefined> => {
    if (rule.delayMs > 0) await sleep(rule.delayMs)
    if (rule.phase === 'after') {
      ctx.after = {
        drop: rule.drop,
        ...(rule.status === undefined ? {} : { status: rule.status }),
        ...(rule.retryAfter === undefined ? {} : { retryAfter: rule.retryAfter }),
      }
    } else if (rule.drop) return drop(request, reply, ctx)
    else if (rule.status !== undefined) {
      if (rule.retryAfter !== undefined) void reply.header('retry-after', rule.retryAfter)
      const body =
        rule.errors !== undefined && rule.status < 500
          ? { errors: rule.errors }
          : detail(`Simulated failure (${rule.status}).`)
      return reply.code(rule.status).send(body)
    }
    return undefined
  }

  /** Rules for one custom id: matched once the body is parsed (a request the gate let through). */
  const customIdGate = async (
    request: FastifyRequest,
    reply: FastifyReply,
    route: string,
  ): Promise<FastifyReply | undefined> => {
    const ctx = contexts.get(request)
    if (!ctx?.app || !faults.hasCustomIdRules()) return undefined
    const customId = customIdOf(request)
    if (customId === undefined) return undefined
    const rule = faults.takeRule(request.method, route, ctx.app, customId)
    return rule ? applyRule(rule, request, reply, ctx) : undefined
  }

  const gate = async (
    request: FastifyRequest,
    reply: FastifyReply,
    route: string,
  ): Promise<FastifyReply | undefined> => {
    const ctx: RequestContext = { endpoint: `${request.method} ${route}` }
    contexts.set(request, ctx)

    const latency = faults.latencyMs()
    if (latency > 0) await sleep(latency)

    const token = tokenOf(request.headers.authorization)
    if (token === undefined) {
      return reply.code(401).send(detail('Authentication credentials were not provided.'))
    }
    const key = world.keys.get(token)
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
      const answered = await applyRule(rule, request, reply, ctx)
      if (answered) return answered
    }

    const decision = faults.decide(key.app, request.method)
    if (decision.kind === 'drop') return drop(request, reply, ctx)
    if (decision.kind === 'status') {
      if (decision.retryAfter !== undefined) void reply.header('retry-after', decision.retryAfter)
      return reply.code(decision.status).send(detail(decision.detail))
    }
    if (decision.lost && !ctx.after) ctx.after = { status: 504, drop: false }
    return undefined
  }

  for (const [method, route, handler] of API_ROUTES) {
    app.route({
      method,
      url: `${basePath}${route}`,
      onRequest: async (request, reply) => gate(request, reply, route),
      preHandler: async (request, reply) => customIdGate(request, reply, route),
      onSend: async (request, reply, payload) => {
        const ctx = contexts.get(request)
        const after = ctx?.after
        if (!ctx || !after || reply.statusCode >= 400) return payload
        if (after.drop) {
          ctx.dropped = true
          world.count(ctx.app, ctx.endpoint, 'dropped-applied')
          request.raw.socket.destroy()
          return payload
        }
        if (after.status === undefined) return payload
        ctx.outcome = `${after.status}-applied`
        void reply.code(after.status)
        if (after.retryAfter !== undefined) void reply.header('retry-after', after.retryAfter)
        const message = after.status === 504 ? 'Gateway timeout.' : `Simulated failure (${after.status}).`
        return JSON.stringify(detail(message))
      },
      handler: async (request, reply) => {
        const ctx = contexts.get(request)
        const result = handler(world.appFor(ctx?.app ?? '').data, request, listing)
        return reply.code(result.status).send(result.body)
      },
    })
  }

  registerControlRoutes(app, world)
  return app
}
