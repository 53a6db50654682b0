import type { FastifyInstance } from 'fastify'
import type {
  FailNextInput,
  Faults,
  FaultsPatch,
  RequestCounts,
  SeedAttributesInput,
  SimAttribute,
  SimEventReport,
  SimMerge,
  SimState,
  SimSummary,
} from './schema'
import { buildSimulator, type BuildSimulatorOptions } from './simulator'

export class SimControlError extends Error {
  readonly code = 'SIM_ERR_CONTROL'
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'SimControlError'
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

/** A typed client of the `/__sim/*` control routes, for tests and tools in any package. */
export class SimAdmin {
  /** `origin`: the simulator's origin, e.g. `http://127.0.0.1:4010` (no base path). */
  constructor(readonly origin: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.origin}/__sim/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    })
    const text = await response.text()
    if (!response.ok)
      throw new SimControlError(`${method} /__sim/${path} → ${response.status}: ${text}`, response.status)
    return JSON.parse(text) as T
  }

  state(app?: string): Promise<SimState> {
    return this.call('GET', app === undefined ? 'state' : `state?app=${encodeURIComponent(app)}`)
  }
  summary(): Promise<SimSummary> {
    return this.call('GET', 'summary')
  }
  async reset(): Promise<void> {
    await this.call('POST', 'reset')
  }
  setFaults(patch: FaultsPatch): Promise<Faults> {
    return this.call('PUT', 'faults', patch)
  }
  async failNext(rule: FailNextInput): Promise<void> {
    await this.call('POST', 'fail-next', rule)
  }
  /**
   * Every request of `app` (any method, any route) answered with `status` (default 429) for
   * `durationMs`, while other apps are served normally: one tenant's User.com down or throttled.
   */
  async failApp(
    app: string,
    options: { durationMs: number; status?: number; retryAfter?: string },
  ): Promise<void> {
    await this.failNext({ app, method: '*', route: '*', status: 429, ...options })
  }
  /** Clears the pending targeted failures. */
  async clearFailures(): Promise<void> {
    await this.call('DELETE', 'fail-next')
  }
  async addKey(key: string, app: string): Promise<void> {
    await this.call('POST', 'keys', { key, app })
  }
  async revoke(key: string): Promise<void> {
    await this.call('POST', 'keys/revoke', { key })
  }
  async restore(key: string): Promise<void> {
    await this.call('POST', 'keys/restore', { key })
  }
  async seedAttributes(input: SeedAttributesInput): Promise<SimAttribute[]> {
    return (await this.call<{ attributes: SimAttribute[] }>('POST', 'attributes', input)).attributes
  }

  /**
   * The event occurrences of `app` (of one user with `customId`), oldest first, and the duplicates
   * among them (same user, name, timestamp and data).
   */
  events(app: string, customId?: string): Promise<SimEventReport> {
    const user = customId === undefined ? '' : `&custom_id=${encodeURIComponent(customId)}`
    return this.call('GET', `events?app=${encodeURIComponent(app)}${user}`)
  }
  /** The merges that took effect in `app`, in order. */
  async merges(app: string): Promise<SimMerge[]> {
    return (await this.state(app)).apps[app]?.merges ?? []
  }
  /**
   * Request counts by endpoint and outcome, of one app or over all. Unknown routes appear under
   * their raw method and path (`PUT /api/public/`).
   */
  async requests(app?: string): Promise<RequestCounts> {
    const state = await this.state(app)
    return (app === undefined ? state.requests : state.apps[app]?.requests) ?? {}
  }

  /**
   * Requests counted for `endpoint` (e.g. `POST /events/`), in one app or over all, with `status`
   * (e.g. 201, 'dropped') or with any status. A status also counts the requests that took effect
   * before being answered with it (`504` counts `504-applied` too; ask for `'504-applied'` alone).
   */
  async requestCount(
    endpoint: string,
    options: { app?: string; status?: number | string } = {},
  ): Promise<number> {
    const byStatus = (await this.requests(options.app))[endpoint] ?? {}
    if (options.status === undefined) return Object.values(byStatus).reduce((sum, n) => sum + n, 0)
    const status = String(options.status)
    const applied = status.endsWith('-applied') ? 0 : (byStatus[`${status}-applied`] ?? 0)
    return (byStatus[status] ?? 0) + applied
  }
}

export interface RunningSimulator {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** The API base URL the client is given: `<origin><basePath>/`. */
  baseUrl: string
  admin: SimAdmin
  close(): Promise<void>
}

/** Builds the simulator and listens (default 127.0.0.1 on a free port). */
export async function startSimulator(
  options: BuildSimulatorOptions & { host?: string; port?: number } = {},
): Promise<RunningSimulator> {
  const { host = '127.0.0.1', port = 0, ...rest } = options
  const app = buildSimulator(rest)
  await app.listen({ host, port })
  const address = app.server.address()
  if (address === null || typeof address === 'string') {
    await app.close()
    throw new SimControlError('the simulator has no TCP address', 0)
  }
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
  const origin = `http://${shownHost}:${address.port}`
  const basePath = rest.basePath ?? '/api/public'
  return {
    app,
    origin,
    baseUrl: `${origin}${basePath}/`,
    admin: new SimAdmin(origin),
    close: () => app.close(),
  }
}
