// The README's quick start, exactly as a newcomer runs it: `npm start` in this checkout (bootstrap, then
// the stack) as a child process group; the printed curl is delivered to the User.com simulator; `pnpm
// demo` runs to the end against that stack; Ctrl-C (SIGINT to the process group) stops everything and
// leaves no process behind. The stack uses the test run's Redis under its own prefix, free ports and
// its own LOCAL_STACK_DIR, so it collides with nothing else running on this machine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { cleanupPrefix, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { SimAdmin } from '@ucd/usercom-sim'
import { REPO_ROOT } from '../../files'
import { TENANT_VARS } from '../plan'
import { processExists, StackInfoSchema, type StackInfo } from '../stack-info'

const redisUrl = testRedisUrl()
const prefix = uniquePrefix(__filename)
const stackDir = mkdtempSync(join(tmpdir(), 'ucd-quickstart-'))

/** The environment of a shell: no npm/pnpm/Jest/turbo task variables, no tenant settings. */
function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|JEST_|TURBO_HASH$|INIT_CWD$|NODE_ENV$|PNPM_SCRIPT_SRC_DIR$)/.test(key)) continue
    if ((TENANT_VARS as readonly string[]).includes(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

const env = shellEnv({
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: prefix,
  INGEST_PORT: '0',
  SIM_PORT: '0',
  METRICS_PORT: '0',
  LOCAL_STACK_DIR: stackDir,
})

/** Every descendant of `root` (pid → command), from the process table. */
function descendants(root: number): Map<number, string> {
  const table = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout
  const rows = table
    .split('\n')
    .map(line => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(m => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] ?? '' }))
  const found = new Map<number, string>()
  const walk = (pid: number): void => {
    for (const row of rows.filter(r => r.ppid === pid && !found.has(r.pid))) {
      found.set(row.pid, row.args)
      walk(row.pid)
    }
  }
  walk(root)
  return found
}

/** Splits a shell line into words, honouring single quotes (all the printed curl line uses). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map(m =>
    m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] ?? ''),
  )
}

let npm: ChildProcess
let output = ''
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
let info: StackInfo
/** Every process the quick start started, seen while it ran: pid → command line. */
const seen = new Map<number, string>()

beforeAll(async () => {
  npm = spawn('npm', ['start'], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  exited = new Promise(resolve => npm.once('exit', (code, signal) => resolve({ code, signal })))
  await waitFor(
    () => {
      if (npm.exitCode !== null || npm.signalCode !== null) throw new Error(`npm start exited:\n${output}`)
      return output.includes('Ctrl-C stops everything.')
    },
    {
      timeoutMs: 150_000,
      intervalMs: 200,
      description: `the quick start's banner; output so far:\n${output}`,
    },
  )
  info = StackInfoSchema.parse(JSON.parse(readFileSync(join(stackDir, 'stack.json'), 'utf8')))
  for (const [pid, args] of descendants(npm.pid ?? -1)) seen.set(pid, args)
}, 180_000)

afterAll(async () => {
  // Only if a test failed half-way: nothing of the stack may outlive the test run.
  if (npm.exitCode === null && npm.signalCode === null) {
    try {
      process.kill(-(npm.pid ?? 0), 'SIGKILL')
    } catch {
      // gone
    }
  }
  for (const pid of [...seen.keys(), ...(info?.processes.map(p => p.pid) ?? [])]) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone, as it should be
    }
  }
  await cleanupPrefix(redisUrl, prefix)
  rmSync(stackDir, { recursive: true, force: true })
}, 30_000)

describe('the quick start: npm start', () => {
  it('brings the stack up and prints the endpoint, the write keys, a curl line and where to look', () => {
    expect(output).toMatch(/Ingest endpoint\s+http:\/\/127\.0\.0\.1:\d+/)
    const endpoint = /Ingest endpoint\s+(\S+)/.exec(output)?.[1]
    expect(endpoint).toBe(info.ingest.url)
    expect(info.mode).toBe('simulator')
    expect(info.queuePrefix).toBe(prefix)
    expect(info.redis).toMatchObject({ url: redisUrl, source: 'REDIS_URL' })
    expect(info.tenants.map(t => t.id)).toEqual(['acme', 'globex'])
    for (const tenant of info.tenants) expect(output).toContain(tenant.writeKeys[0])
    expect(output).toContain(`${info.simulator?.origin}/__sim/state`)
    for (const worker of info.workers) expect(output).toContain(`${worker.metricsUrl}/metrics`)
    expect(output).toContain(`${info.ingest.metricsUrl}/metrics`)
    expect(info.ingest.metricsUrl).not.toBe(info.ingest.url)
    expect(output).toContain(`REDIS_URL=${redisUrl} QUEUE_PREFIX=${prefix} pnpm admin stats`)
    expect(output).toContain('pnpm admin dlq list')
    expect(output).toContain('pnpm demo')
    // Two workers on distinct metrics ports; every process the stack started is ours.
    expect(info.workers).toHaveLength(2)
    expect(new Set(info.workers.map(w => w.port)).size).toBe(2)
    expect(info.processes.map(p => p.name).sort()).toEqual(['ingest', 'usercom-sim', 'worker-1', 'worker-2'])
    for (const process of info.processes) expect(seen.has(process.pid)).toBe(true)
    expect(seen.has(info.launcherPid)).toBe(true)
    // Each child's lines are prefixed with its name.
    expect(output).toMatch(/^ingest\s+\| /m)
    expect(output).toMatch(/^worker-2\s+\| /m)
  })

  it('delivers the printed curl to the User.com simulator within seconds', async () => {
    const line = /^\s*(curl .*)$/m.exec(output)?.[1] ?? ''
    const words = shellWords(line)
    expect(words[0]).toBe('curl')
    const user = words[words.indexOf('-u') + 1] ?? ''
    const body = words[words.indexOf('-d') + 1] ?? ''
    const url = words.at(-1) ?? ''
    expect(words[words.indexOf('-H') + 1]).toBe('Content-Type: application/json')
    expect(url).toBe(`${info.ingest.url}/v1/track`)
    expect(user).toBe(`${info.tenants[0]?.writeKeys[0]}:`)

    // The same request curl sends: Basic auth with the write key as user name, the JSON body.
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(user).toString('base64')}`,
        'content-type': 'application/json',
      },
      body,
    })
    expect(response.status).toBe(200)
    const sent = JSON.parse(body) as { userId: string; event: string; properties: Record<string, unknown> }

    const sim = new SimAdmin(info.simulator?.origin ?? '')
    const delivered = await waitFor(
      async () => {
        const app = (await sim.state('acme')).apps.acme
        const user = app?.users.find(u => u.custom_id === sent.userId)
        return user && app?.events.find(e => e.user_id === user.id && e.name === sent.event)
      },
      { timeoutMs: 15_000, intervalMs: 200, description: 'the curl event in the simulator' },
    )
    expect(delivered.data).toEqual(sent.properties)
  })

  it('runs `pnpm demo` to the end: delivered, dead-lettered and replayed events', async () => {
    // Asynchronously: the stack keeps logging into our pipe meanwhile, which must keep being read.
    const demo = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'pnpm'), ['demo'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let text = ''
    demo.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    demo.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const timer = setTimeout(() => demo.kill('SIGKILL'), 150_000)
    const status = await new Promise<number | null>(resolve => demo.once('close', resolve))
    clearTimeout(timer)
    expect({ status, tail: text.slice(-3000) }).toMatchObject({ status: 0 })
    expect(text).toContain('== 4. What landed in User.com')
    expect(text).toMatch(/acme: 3 users, 1 company, 4 events, 2 page views/)
    expect(text).toMatch(/globex: 0 users, 0 companies, 0 events, 0 page views/)
    expect(text).toMatch(/\$ pnpm admin dlq list --reason forbidden --tenant globex/)
    expect(text).toMatch(/forbidden\s+403\s+globex\s+identify/)
    expect(text).toMatch(/globex: 1 user, 1 company, 1 event, 1 page view/)
    expect(text).toMatch(/delivered\s+15 of 15 events/)
    expect(text).toMatch(/dead-lettered\s+4 \(globex, forbidden/)
    expect(text).toMatch(/replayed\s+4 \(already queued 0, failed 0, skipped 0\)/)
    expect(text).toMatch(/DLQ now\s+0 records of this run/)
    expect(text).toContain('Demo complete.')
  }, 180_000)

  it('stops every process it started on Ctrl-C (SIGINT to the process group), leaving none behind', async () => {
    for (const [pid, args] of descendants(npm.pid ?? -1)) seen.set(pid, args)
    const pids = new Set([...seen.keys(), ...info.processes.map(p => p.pid), info.launcherPid])
    expect(pids.size).toBeGreaterThanOrEqual(6) // npm's shell, the launcher, simulator, ingest, two workers
    expect([...pids].filter(pid => processExists(pid)).length).toBeGreaterThan(0)

    process.kill(-(npm.pid ?? 0), 'SIGINT')
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`npm start did not exit:\n${output}`)), 60_000)
    })
    await Promise.race([exited, late]).finally(() => clearTimeout(timer))
    expect(output).toContain('stopping 4 processes (SIGINT)')
    expect(output).toMatch(/stopped: every process the stack started has exited/)
    expect(output).not.toMatch(/exited unexpectedly|killed \(SIGKILL\)/)
    const alive = [...pids].filter(pid => processExists(pid)).map(pid => `${pid} ${seen.get(pid) ?? ''}`)
    expect(alive).toEqual([])
    expect(existsSync(join(stackDir, 'stack.json'))).toBe(false)
    expect(existsSync(join(stackDir, 'tenants.json'))).toBe(false)
  }, 90_000)
})
