import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { REPO_ROOT } from '../files'

// `.local-stack/stack.json`: what the running local stack chose (ports, prefix, Redis, tenants, pids),
// so `pnpm demo`, `pnpm admin` and tests can find it. Written once the stack is up, removed when it stops.

export const STACK_INFO_FILE = 'stack.json'
export const TENANTS_FILE_NAME = 'tenants.json'

const ProcessInfoSchema = z.object({
  name: z.string(),
  pid: z.number().int(),
  command: z.string(),
})

export const StackInfoSchema = z.object({
  version: z.literal(1),
  startedAt: z.string(),
  /** The `npm start` process that owns the stack. */
  launcherPid: z.number().int(),
  /** `simulator`: the bundled User.com simulator with two tenants; `usercom`: a real User.com. */
  mode: z.enum(['simulator', 'usercom']),
  redis: z.object({
    url: z.string(),
    source: z.enum(['REDIS_URL', 'local', 'redis-server']),
    /** The temporary directory of a redis-server the stack started. */
    dir: z.string().optional(),
  }),
  queuePrefix: z.string(),
  /** The public ingest (url, port) and its /metrics server (its own port). */
  ingest: z.object({ url: z.string(), port: z.number().int(), metricsUrl: z.string() }),
  simulator: z
    .object({
      origin: z.string(),
      baseUrl: z.string(),
      port: z.number().int(),
      /** Simulator app (tenant data) of each tenant id. */
      apps: z.record(z.string(), z.string()),
    })
    .nullable(),
  workers: z.array(z.object({ name: z.string(), metricsUrl: z.string(), port: z.number().int() })),
  /** The TENANTS_FILE the apps read, or null for the single-tenant variables. */
  tenantsFile: z.string().nullable(),
  tenants: z.array(z.object({ id: z.string(), writeKeys: z.array(z.string()) })),
  /** Every process the stack started (redis-server included, when it started one). */
  processes: z.array(ProcessInfoSchema),
  /** Environment for `pnpm admin` against this stack: `REDIS_URL=... QUEUE_PREFIX=...`. */
  adminEnv: z.record(z.string(), z.string()),
})
export type StackInfo = z.infer<typeof StackInfoSchema>
export type StackProcessInfo = z.infer<typeof ProcessInfoSchema>

/** `LOCAL_STACK_DIR`, else `<repo>/.local-stack` (gitignored). */
export function stackDir(localStackDir: string | undefined): string {
  const dir = localStackDir?.trim()
  return dir ? resolve(dir) : join(REPO_ROOT, '.local-stack')
}

export type StackInfoRead =
  | { status: 'missing'; path: string }
  | { status: 'invalid'; path: string; problem: string }
  | { status: 'ok'; path: string; info: StackInfo }

export function readStackInfo(dir: string): StackInfoRead {
  const path = join(dir, STACK_INFO_FILE)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return { status: 'missing', path }
  }
  try {
    const parsed = StackInfoSchema.safeParse(JSON.parse(text))
    if (parsed.success) return { status: 'ok', path, info: parsed.data }
    return { status: 'invalid', path, problem: parsed.error.issues.map(i => i.message).join('; ') }
  } catch {
    return { status: 'invalid', path, problem: 'not JSON' }
  }
}

/** Writes a file readable by its owner only, atomically (temporary file, then rename). */
export function writePrivateFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text, { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, path)
}

export function writeStackInfo(dir: string, info: StackInfo): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, STACK_INFO_FILE)
  writePrivateFile(path, `${JSON.stringify(StackInfoSchema.parse(info), null, 2)}\n`)
  return path
}

/** Removes stack.json, but only the one this launcher wrote (a newer stack may own the directory). */
export function removeStackInfo(dir: string, launcherPid: number): void {
  const read = readStackInfo(dir)
  if (read.status === 'ok' && read.info.launcherPid === launcherPid) rmSync(read.path, { force: true })
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
