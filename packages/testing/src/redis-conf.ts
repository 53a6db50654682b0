/**
 * The settings of a redis.conf text: directive (lower-cased) → its arguments as one string, the last
 * occurrence winning, as in Redis. A flat `name value...` file: `#` comment lines, blank lines; quotes
 * around a single argument are dropped (`appenddirname "appendonly"` → `appendonly`).
 */
export function readRedisConf(text: string): Map<string, string> {
  const settings = new Map<string, string>()
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const [name = '', ...args] = line.split(/\s+/)
    const value = args.join(' ')
    settings.set(name.toLowerCase(), /^"[^"]*"$|^'[^']*'$/.test(value) ? value.slice(1, -1) : value)
  }
  return settings
}
