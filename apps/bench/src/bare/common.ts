import type { z } from 'zod'

/** The JSON settings a bare process gets as its one argument, checked by `schema`. */
export function parseArgs<S extends z.ZodType>(schema: S, argv: readonly string[]): z.infer<S> {
  const raw = argv[2]
  if (raw === undefined) throw new Error('expected the settings as one JSON argument')
  return schema.parse(JSON.parse(raw))
}

/** Exits when the bench that started this process is gone (its parent changed), so nothing is left behind. */
export function exitWithParent(): void {
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1)
  }, 1000).unref()
}

/** host and port of a redis:// URL, for a plain BullMQ connection. */
export function redisHostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 6379) }
}

export function fail(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
}
