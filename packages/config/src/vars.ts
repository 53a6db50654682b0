import { isIP } from 'node:net'
import { z } from 'zod'

// The kinds of environment variable, as zod schemas. A variable is declared once (schema.ts) as
// `variable(NAME, kind)`: its name, its schema with its default, and whether it is a secret. Values
// are trimmed, and blank means unset. Error messages say what is expected and never repeat the value:
// some variables hold secrets.

export interface Variable<S extends z.ZodType = z.ZodType> {
  /** The environment variable. */
  readonly name: string
  /** Parses the variable's raw value (a string, or undefined when unset or blank). */
  readonly schema: z.ZodType<z.output<S>>
  /** Never printed, never logged. */
  readonly secret: boolean
}

/** Trimmed; blank is unset. */
const envValue = (value: unknown): unknown => {
  if (typeof value !== 'string') return value
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

export function variable<S extends z.ZodType>(
  name: string,
  kind: S,
  options: { secret?: true } = {},
): Variable<S> {
  return { name, schema: z.preprocess(envValue, kind), secret: options.secret === true }
}

/** The only error a check reports; `abort` stops at the first failed check, so a value gets one message. */
const says = (error: string) => ({ error, abort: true })

export const int = (min: number, max: number) => {
  const error = says(`must be a whole number from ${min} to ${max}`)
  return z.coerce.number(error).int(error).min(min, error).max(max, error)
}

/** A number above `min` (or at least `min`, with `inclusive`) and at most `max`. */
export const number = (min: number, max: number, { inclusive = false } = {}) => {
  const error = says(`must be a number ${inclusive ? 'at least' : 'greater than'} ${min} and at most ${max}`)
  const schema = z.coerce.number(error)
  return (inclusive ? schema.min(min, error) : schema.gt(min, error)).max(max, error)
}

export const text = (pattern?: { regex: RegExp; message: string }) =>
  pattern === undefined ? z.string() : z.string().regex(pattern.regex, says(pattern.message))

/** A URL with one of `protocols` (without the colon: `redis`, `https`). */
export const url = (...protocols: string[]) => {
  const listed = protocols.map(p => `${p}:`).join(' or ')
  return z.url({
    protocol: new RegExp(`^(${protocols.join('|')})$`),
    error: issue => (issue.note === 'Invalid protocol' ? `must use ${listed}` : `must be a URL (${listed})`),
  })
}

/** Booleans as people write them in env files. Never `Boolean(str)`: "false" would be true. */
export const bool = () =>
  z.stringbool({
    truthy: ['1', 'true', 'yes', 'on'],
    falsy: ['0', 'false', 'no', 'off'],
    error: 'must be one of 1, 0, true, false, yes, no, on, off',
  })

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** A pino level, in any case. */
export const logLevel = () =>
  z
    .string()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))

/** Names proxy-addr (Fastify's trustProxy) knows for address ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal']

function isAddressOrCidr(text: string): boolean {
  if (PROXY_RANGE_NAMES.includes(text)) return true
  const [address = '', bits, ...rest] = text.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/**
 * Which proxies in front of a server to believe about the client's address (Fastify's `trustProxy`):
 * false = none (the socket's peer is the client); true = any; or comma-separated addresses/CIDRs (and
 * loopback, linklocal, uniquelocal). No hop count: Fastify 5 ignores one (it cannot tell a proxy from a
 * client that sends X-Forwarded-For itself), so `1` or `2` is an error rather than `true`.
 */
export const trustProxy = () =>
  z.string().transform((value, ctx): boolean | string => {
    const lower = value.toLowerCase()
    if (['false', 'no', 'off', '0'].includes(lower)) return false
    if (['true', 'yes', 'on'].includes(lower)) return true
    const parts = value.split(',').map(part => part.trim())
    if (parts.every(isAddressOrCidr)) return parts.join(',')
    ctx.addIssue({
      code: 'custom',
      message: 'must be false, true, or comma-separated proxy addresses or CIDRs (e.g. 10.0.0.0/8,loopback)',
    })
    return z.NEVER
  })
