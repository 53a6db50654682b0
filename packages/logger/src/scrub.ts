export const REDACTED = '[Redacted]'

/** Keys whose values are secrets wherever they appear, whatever the nesting or letter case. */
export const SECRET_KEY_PATTERN =
  /^(authorization|proxy-authorization|x-api-key|api[-_]?keys?|write[-_]?keys?|password|passwd|secrets?|client[-_]?secret|tokens?|access[-_]?token|refresh[-_]?token|cookie|set-cookie)$/i

export interface ScrubOptions {
  /** Known secret values (API keys, write keys): replaced wherever they occur inside a string. */
  secrets?: readonly string[]
  /** Depth after which values are cut, to keep hostile input from costing too much. */
  maxDepth?: number
}

const MIN_SECRET_LENGTH = 4
/** The shortest string AUTH_VALUE can match: "Token" or "Basic", a space, 8 characters. */
const MIN_AUTH_VALUE_LENGTH = 14
const AUTH_VALUE = /\b(Token|Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g

function scrubString(value: string, secrets: readonly string[]): string {
  let out = value
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH && out.includes(secret)) out = out.split(secret).join(REDACTED)
  }
  // Authorization header values that slipped into a message: "Token abc", "Basic abc", "Bearer abc".
  return out.length < MIN_AUTH_VALUE_LENGTH ? out : out.replace(AUTH_VALUE, `$1 ${REDACTED}`)
}

/**
 * SECRET_KEY_PATTERN's verdict per key: log lines use the same few keys over and over (every request
 * line of the ingest is scrubbed). Bounded: past MAX_CACHED_KEYS it starts over.
 */
const secretKeys = new Map<string, boolean>()
const MAX_CACHED_KEYS = 10_000

function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key)
  if (secret === undefined) {
    secret = SECRET_KEY_PATTERN.test(key)
    if (secretKeys.size >= MAX_CACHED_KEYS) secretKeys.clear()
    secretKeys.set(key, secret)
  }
  return secret
}

/**
 * ioredis errors carry the failed command with its arguments (`err.command.args`): a BullMQ script
 * with a whole job's data, a SET with a dedupe key. Only the command's name is kept.
 */
function commandName(command: unknown): unknown {
  if (command === null || typeof command !== 'object') return command
  const { name, args } = command as { name?: unknown; args?: unknown }
  return {
    name,
    ...(Array.isArray(args) ? { args: `[${args.length} arguments omitted]` } : {}),
  }
}

/**
 * A copy of `value` with secrets removed: values under secret-looking keys are replaced, known
 * secret strings are cut out of every string, Errors become plain objects (type, message, stack,
 * code and their own fields). Safe on cycles. Used by the logger and by anything that stores text
 * from outside (DLQ records, truncated response bodies).
 */
export function scrub(value: unknown, options: ScrubOptions = {}): unknown {
  const secrets = (options.secrets ?? []).filter(s => s.length >= MIN_SECRET_LENGTH)
  const maxDepth = options.maxDepth ?? 12
  // The objects being walked, outermost first (at most maxDepth): a cycle leads back to one of them.
  const ancestors: object[] = []

  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return scrubString(node, secrets)
    if (node === null || typeof node !== 'object') return node
    if (ancestors.includes(node)) return '[Circular]'
    if (depth >= maxDepth) return '[Truncated]'
    ancestors.push(node)
    try {
      if (Array.isArray(node)) return node.map(item => walk(item, depth + 1))
      if (Buffer.isBuffer(node)) return `[Buffer ${node.length} bytes]`
      if (!(node instanceof Error)) {
        // A plain object (every log line's): copied key by key, no intermediate copy.
        const out: Record<string, unknown> = {}
        for (const key of Object.keys(node)) {
          // An own "__proto__" key (JSON.parse makes them) would set the copy's prototype: dropped.
          if (key === '__proto__') continue
          const child = (node as Record<string, unknown>)[key]
          out[key] =
            isSecretKey(key) && child !== undefined && child !== null ? REDACTED : walk(child, depth + 1)
        }
        return out
      }
      const source: Record<string, unknown> = {}
      source.type = node.name
      source.message = node.message
      source.stack = node.stack
      const cause = (node as Error & { cause?: unknown }).cause
      if (cause !== undefined) source.cause = cause
      for (const key of Object.keys(node)) source[key] = (node as unknown as Record<string, unknown>)[key]
      source.command = commandName(source.command)
      const out: Record<string, unknown> = {}
      for (const [key, child] of Object.entries(source)) {
        out[key] =
          isSecretKey(key) && child !== undefined && child !== null ? REDACTED : walk(child, depth + 1)
      }
      return out
    } finally {
      ancestors.pop()
    }
  }
  return walk(value, 0)
}
