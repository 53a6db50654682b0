import { isIP } from 'node:net'
import { z } from 'zod'

// Helpers that turn one environment variable (a string or nothing) into a typed value. Their error
// messages say what is expected and never repeat the value: some variables hold secrets.

const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value

export const intVar = (opts: { min: number; max: number; default: number }) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined) return opts.default
        const value = Number(raw.trim())
        if (!Number.isInteger(value) || value < opts.min || value > opts.max) {
          ctx.addIssue({ code: 'custom', message: `must be a whole number from ${opts.min} to ${opts.max}` })
          return z.NEVER
        }
        return value
      }),
  )

export const numberVar = (opts: { min: number; max: number; exclusiveMin?: boolean; default: number }) =>
  optionalNumberVar(opts).transform(value => value ?? opts.default)

export const optionalNumberVar = (opts: { min: number; max: number; exclusiveMin?: boolean }) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx): number | undefined => {
        if (raw === undefined) return undefined
        const value = Number(raw.trim())
        const tooLow = opts.exclusiveMin ? value <= opts.min : value < opts.min
        if (!Number.isFinite(value) || tooLow || value > opts.max) {
          const lower = opts.exclusiveMin ? `greater than ${opts.min}` : `at least ${opts.min}`
          ctx.addIssue({ code: 'custom', message: `must be a number ${lower} and at most ${opts.max}` })
          return z.NEVER
        }
        return value
      }),
  )

interface StringVarOptions {
  default?: string
  pattern?: RegExp
  patternMessage?: string
}

const stringSchema = <D extends string | undefined>(opts: StringVarOptions, fallback: D) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx): string | D => {
        const value: string | D = raw?.trim() ?? fallback
        if (value !== undefined && opts.pattern && !opts.pattern.test(value)) {
          ctx.addIssue({ code: 'custom', message: opts.patternMessage ?? 'has an invalid format' })
          return z.NEVER
        }
        return value
      }),
  )

/** A string; with a `default`, never undefined. */
export function stringVar(
  opts: StringVarOptions & { default: string },
): ReturnType<typeof stringSchema<string>>
export function stringVar(opts?: StringVarOptions): ReturnType<typeof stringSchema<string | undefined>>
export function stringVar(opts: StringVarOptions = {}) {
  return stringSchema(opts, opts.default)
}

/** A secret: kept verbatim (no trimming surprises beyond whitespace), never echoed in messages. */
export const secretVar = () =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform(raw => raw?.trim()),
  )

interface UrlVarOptions {
  protocols: readonly string[]
  default?: string
}

const urlSchema = <D extends string | undefined>(opts: UrlVarOptions, fallback: D) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx): string | D => {
        const value: string | D = raw?.trim() ?? fallback
        if (value === undefined) return value
        let parsed: URL
        try {
          parsed = new URL(value)
        } catch {
          ctx.addIssue({ code: 'custom', message: `must be a URL (${opts.protocols.join(' or ')})` })
          return z.NEVER
        }
        if (!opts.protocols.includes(parsed.protocol)) {
          ctx.addIssue({ code: 'custom', message: `must use ${opts.protocols.join(' or ')}` })
          return z.NEVER
        }
        return value
      }),
  )

/** A URL with one of `protocols`; with a `default`, never undefined. */
export function urlVar(opts: UrlVarOptions & { default: string }): ReturnType<typeof urlSchema<string>>
export function urlVar(opts: UrlVarOptions): ReturnType<typeof urlSchema<string | undefined>>
export function urlVar(opts: UrlVarOptions) {
  return urlSchema(opts, opts.default)
}

/** Booleans as people write them in env files. Never `Boolean(str)`: "false" would be true. */
export const boolVar = () =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx): boolean | undefined => {
        if (raw === undefined) return undefined
        const value = raw.trim().toLowerCase()
        if (['1', 'true', 'yes', 'on'].includes(value)) return true
        if (['0', 'false', 'no', 'off'].includes(value)) return false
        ctx.addIssue({ code: 'custom', message: 'must be one of 1, 0, true, false, yes, no, on, off' })
        return z.NEVER
      }),
  )

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
 * unset or false = none (the socket's peer is the client); true = any; or comma-separated
 * addresses/CIDRs (and loopback, linklocal, uniquelocal). No hop count: Fastify 5 ignores one (it
 * cannot tell a proxy from a client that sends X-Forwarded-For itself).
 */
export const trustProxyVar = () =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx): boolean | string => {
        if (raw === undefined) return false
        const value = raw.trim()
        const lower = value.toLowerCase()
        if (['false', 'no', 'off', '0'].includes(lower)) return false
        if (['true', 'yes', 'on'].includes(lower)) return true
        const parts = value.split(',').map(part => part.trim())
        if (parts.every(isAddressOrCidr)) return parts.join(',')
        ctx.addIssue({
          code: 'custom',
          message:
            'must be false, true, or comma-separated proxy addresses or CIDRs (e.g. 10.0.0.0/8,loopback)',
        })
        return z.NEVER
      }),
  )

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const logLevelVar = () =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((raw, ctx): (typeof LOG_LEVELS)[number] => {
        const value = (raw ?? 'info').trim().toLowerCase()
        const level = LOG_LEVELS.find(l => l === value)
        if (!level) {
          ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}` })
          return z.NEVER
        }
        return level
      }),
  )
