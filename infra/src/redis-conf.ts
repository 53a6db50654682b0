/** Every occurrence of every directive of a redis.conf, in file order (names lower-cased). */
export type RedisConf = Map<string, string[][]>

/**
 * Parses redis.conf: one directive per line, `#` comments, arguments split on spaces with
 * "double" or 'single' quoted arguments kept whole. Directive names are case-insensitive.
 */
export function parseRedisConf(text: string): RedisConf {
  const conf: RedisConf = new Map()
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const words = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map(
      m => m[1] ?? m[2] ?? m[3] ?? '',
    )
    const [name, ...args] = words
    if (name === undefined) continue
    const key = name.toLowerCase()
    conf.set(key, [...(conf.get(key) ?? []), args])
  }
  return conf
}

/** The value Redis uses for a single-valued directive (the last occurrence wins, as in Redis), args joined by a space. */
export function redisSetting(conf: RedisConf, name: string): string | undefined {
  const all = conf.get(name.toLowerCase())
  const last = all?.[all.length - 1]
  return last?.join(' ')
}
