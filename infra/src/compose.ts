/** Variables a Compose file is interpolated with (the shell environment and/or an --env-file). */
export type ComposeVariables = Readonly<Record<string, string | undefined>>

/**
 * Resolves Compose interpolation in one value: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (throw when missing) and `$$` (a literal `$`).
 * Defaults may themselves contain `${...}`.
 */
export function interpolate(value: string, variables: ComposeVariables): string {
  let out = ''
  let i = 0
  while (i < value.length) {
    const char = value[i]
    if (char !== '$') {
      out += char
      i += 1
      continue
    }
    const next = value[i + 1]
    if (next === '$') {
      out += '$'
      i += 2
      continue
    }
    if (next === '{') {
      const end = closingBrace(value, i + 2)
      out += resolveBraced(value.slice(i + 2, end), variables)
      i = end + 1
      continue
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(value.slice(i + 1))
    if (bare) {
      out += variables[bare[0]] ?? ''
      i += 1 + bare[0].length
      continue
    }
    out += '$'
    i += 1
  }
  return out
}

function closingBrace(value: string, from: number): number {
  let depth = 1
  for (let i = from; i < value.length; i += 1) {
    if (value[i] === '{') depth += 1
    if (value[i] === '}') depth -= 1
    if (depth === 0) return i
  }
  throw new Error(`unterminated \${ in "${value}"`)
}

function resolveBraced(body: string, variables: ComposeVariables): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])(.*))?$/s.exec(body)
  if (!match?.[1]) throw new Error(`invalid interpolation \${${body}}`)
  const [, name, colon, operator, rest = ''] = match
  const current = variables[name]
  const missing = colon === ':' ? current === undefined || current === '' : current === undefined
  if (operator === undefined || !missing) return current ?? ''
  if (operator === '-') return interpolate(rest, variables)
  throw new Error(`required variable ${name} is missing: ${rest}`)
}

const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Compose duration (`40s`, `1m30s`, `500ms`, `1h`) in milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map(p => p[0]).join('') !== trimmed) {
    throw new Error(`"${text}" is not a duration like 40s or 1m30s`)
  }
  return parts.reduce(
    (total, [, amount, unit]) => total + Number(amount) * (DURATION_UNITS[unit ?? ''] ?? NaN),
    0,
  )
}

/** Parses a dotenv file as `docker compose --env-file` reads it: KEY=value lines, `#` comments, optional quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!match?.[1]) throw new Error(`not a KEY=value line: ${line}`)
    const value = (match[2] ?? '').trim()
    const quoted = /^(["'])(.*)\1$/.exec(value)
    env[match[1]] = quoted ? (quoted[2] ?? '') : value.replace(/\s+#.*$/, '')
  }
  return env
}
