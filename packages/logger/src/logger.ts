import pino, {
  type DestinationStream,
  type Level,
  type Logger,
  type LoggerOptions as PinoOptions,
} from 'pino'
import pretty from 'pino-pretty'
import { REDACTED, scrub } from './scrub'

export type LogLevel = Level | 'silent'

export interface CreateLoggerOptions {
  /** Name of the process: ingest, worker, admin, usercom-sim, ... */
  service: string
  level?: LogLevel
  /** true: human-readable; false: JSON; undefined: human-readable only when stdout is a TTY. */
  pretty?: boolean
  /** Known secret values, cut out of every logged string. */
  secrets?: readonly string[]
  /** Where lines go (tests pass an in-memory stream). Default: stdout. */
  destination?: DestinationStream
  /** Extra fields on every line. */
  base?: Record<string, unknown>
}

export type { Logger }

/**
 * The one pino factory. Every line is JSON (unless pretty output is asked for), carries `service`,
 * and has secrets removed: values under secret-looking keys (authorization, apiKey, writeKey, token,
 * ...) at any depth, known secret strings anywhere, and Authorization header values in messages.
 * Use `logger.child({ requestId })` / `child({ jobId, tenantId })` per request or job.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const secrets = options.secrets ?? []
  const clean = (value: unknown): unknown => scrub(value, { secrets })
  const pinoOptions: PinoOptions = {
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Standard places first (cheap), the deep scrub below catches the rest.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'config.headers.Authorization'],
      censor: REDACTED,
    },
    hooks: {
      logMethod(args, method) {
        const cleaned = args.map(clean) as Parameters<typeof method>
        return method.apply(this, cleaned)
      },
    },
    formatters: {
      bindings: bindings => clean(bindings) as Record<string, unknown>,
    },
    // scrub() has already turned errors into plain { type, message, stack, code, ... } objects.
    serializers: { err: (err: unknown) => err },
  }
  const toStdout = options.destination === undefined
  const logger = build(pinoOptions, options, toStdout)
  // Child bindings skip formatters.bindings, so scrub them here. Children are created from their
  // parent's prototype, so patching the root once covers every descendant.
  type ChildFn = (this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) => Logger
  const original = (Object.getPrototypeOf(logger) as { child: ChildFn }).child
  const patched: ChildFn = function (bindings, childOptions) {
    return original.call(this, clean(bindings) as pino.Bindings, childOptions)
  }
  // pino's generic child signature cannot be restated; the patched function has the same runtime contract.
  logger.child = patched as unknown as Logger['child']
  return logger
}

function build(pinoOptions: PinoOptions, options: CreateLoggerOptions, toStdout: boolean): Logger {
  const usePretty = options.pretty ?? (toStdout && process.stdout.isTTY === true)
  if (usePretty) {
    const stream = pretty({
      sync: true,
      colorize: toStdout && process.stdout.isTTY === true,
      destination: options.destination ?? 1,
    })
    return pino(pinoOptions, stream)
  }
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions)
}
