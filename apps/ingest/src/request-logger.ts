import type { FastifyBaseLogger } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
// pino's LogFn overloads cannot be implemented one by one; a method of this type has their runtime contract.
type LogFn = FastifyBaseLogger['info']

/**
 * A request's logger (Fastify's `childLoggerFactory`) that makes no pino child per request: a pino
 * child serialises (and the shared logger scrubs) its bindings when it is created, a good part of a
 * single-event request's CPU in the profile. Instead, a call with an object first — `log.info({ ... },
 * 'msg')`, every call the ingest makes — goes to the parent with the bindings (requestId, then
 * tenantId once `bind` added it) merged in front of the object: the same line a child writes. Any
 * other call (a message or an Error first) makes the real child once and uses it from then on.
 */
export class RequestLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options?: ChildOptions,
  ) {}

  get level(): string {
    return (this.real ?? this.parent).level
  }

  set level(level: string) {
    this.materialize().level = level
  }

  /** Adds bindings to every later line (the tenant, once the request's write key settled it). */
  bind(extra: Bindings): void {
    // The bindings object is this logger's own (Fastify makes one per request; child() copies).
    Object.assign(this.bindings, extra)
    if (this.real !== undefined) this.real = this.real.child(extra)
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return new RequestLogger(this.parent, { ...this.bindings, ...bindings }, { ...this.options, ...options })
  }

  // On the prototype (below): no closure per request.
  declare fatal: LogFn
  declare error: LogFn
  declare warn: LogFn
  declare info: LogFn
  declare debug: LogFn
  declare trace: LogFn
  declare silent: LogFn

  /** @internal */
  write(level: Level, args: unknown[]): void {
    const first = args[0]
    if (
      this.real === undefined &&
      this.options === undefined &&
      first !== null &&
      typeof first === 'object' &&
      !(first instanceof Error)
    ) {
      args[0] = { ...this.bindings, ...first }
      Reflect.apply(this.parent[level], this.parent, args)
      return
    }
    const real = this.materialize()
    Reflect.apply(real[level], real, args)
  }

  private materialize(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options)
    return this.real
  }
}

function logAt(level: Level): LogFn {
  return function (this: RequestLogger, ...args: unknown[]): void {
    this.write(level, args)
  }
}
Object.assign(RequestLogger.prototype, {
  fatal: logAt('fatal'),
  error: logAt('error'),
  warn: logAt('warn'),
  info: logAt('info'),
  debug: logAt('debug'),
  trace: logAt('trace'),
  silent: () => undefined,
})

/** Fastify's `childLoggerFactory`: a RequestLogger per request. */
export function requestLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildOptions,
): FastifyBaseLogger {
  // Fastify passes `{}` when the route sets no log options: no options, no real child needed.
  return new RequestLogger(logger, bindings, Object.keys(options).length > 0 ? options : undefined)
}
