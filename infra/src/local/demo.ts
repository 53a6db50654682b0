import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Analytics } from '@segment/analytics-node'
import type { ReplaySummary } from '@ucd/admin'
import { TenantsFileSchema } from '@ucd/config'
import { DeadLetterRecordSchema } from '@ucd/queue'
import { sleep } from '@ucd/testing'
import { SimAdmin, type SimAppState, type SimState } from '@ucd/usercom-sim'
import { z } from 'zod'
import { REPO_ROOT } from '../files'
import { printApp } from './demo-report'
import { deliveredStream, describeCall, isDelivered, revokedStream, type DemoCall } from './demo-events'
import { StackError } from './errors'
import { envLine, TENANT_VARS, type StackEnv } from './plan'
import { processExists, readStackInfo, stackDir, type StackInfo } from './stack-info'
import type { TextOut } from './supervisor'

// `pnpm demo`: a realistic Segment stream into the running local stack, for two tenants, one of whose
// User.com keys is revoked first; then what landed in User.com, the dead-letter queue, the replay after
// the key is restored, and the result.

export interface DemoOptions {
  env: StackEnv
  out: TextOut
  err: TextOut
  /** How long each wait (delivery, dead-lettering, replay) may take. */
  timeoutMs?: number
  root?: string
  nodePath?: string
}

const DEFAULT_TIMEOUT_MS = 60_000
const DlqListSchema = z.array(DeadLetterRecordSchema.extend({ id: z.string() }))
type DlqRecord = z.infer<typeof DlqListSchema>[number]

interface AdminResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Reads stack.json and checks the stack answers; a StackError says how to start it otherwise. */
async function findStack(env: StackEnv): Promise<StackInfo> {
  const dir = stackDir(env.LOCAL_STACK_DIR)
  const read = readStackInfo(dir)
  const start =
    'Start it in another terminal with `npm start` (or `pnpm start`), wait for "usercom-destination is running", then run `pnpm demo` again.'
  if (read.status === 'missing') {
    throw new StackError(
      'UCD_ERR_STACK_NOT_RUNNING',
      `No local stack is running (there is no ${read.path}).\n${start}`,
    )
  }
  if (read.status === 'invalid') {
    throw new StackError(
      'UCD_ERR_STACK_NOT_RUNNING',
      `${read.path} is not a stack file (${read.problem}).\n${start}`,
    )
  }
  const info = read.info
  if (!processExists(info.launcherPid)) {
    throw new StackError(
      'UCD_ERR_STACK_NOT_RUNNING',
      `${read.path} is left over from a stack that is gone (launcher pid ${info.launcherPid}).\n${start}`,
    )
  }
  if (info.mode !== 'simulator' || !info.simulator) {
    throw new StackError(
      'UCD_ERR_DEMO',
      'The demo needs the stack to run the User.com simulator (it revokes and restores a tenant key there), ' +
        'but this stack talks to a real User.com. Start the stack without USERCOM_API_KEY / TENANTS_FILE for the demo.',
    )
  }
  const health = await fetch(`${info.ingest.url}/health/ready`).then(
    r => r.ok,
    () => false,
  )
  if (!health) {
    throw new StackError(
      'UCD_ERR_STACK_NOT_RUNNING',
      `The ingest at ${info.ingest.url} does not answer.\n${start}`,
    )
  }
  return info
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out
  const say = (line = ''): void => void out.write(`${line}\n`)
  const section = (title: string): void => {
    say()
    say(`== ${title} ${'='.repeat(Math.max(3, 74 - title.length))}`)
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const root = options.root ?? REPO_ROOT
  const node = options.nodePath ?? process.execPath

  let info: StackInfo
  try {
    info = await findStack(options.env)
  } catch (error) {
    if (error instanceof StackError) {
      options.err.write(`demo: ${error.message}\n`)
      return 1
    }
    throw error
  }
  const simulator = info.simulator
  if (!simulator || info.tenantsFile === null || info.tenants.length < 2) {
    options.err.write('demo: the stack has no simulator with two tenants (see infra/local/README.md)\n')
    return 1
  }
  const sim = new SimAdmin(simulator.origin)
  const tenantsFile = TenantsFileSchema.parse(JSON.parse(readFileSync(info.tenantsFile, 'utf8')))
  const [first, second] = info.tenants as [StackInfo['tenants'][number], StackInfo['tenants'][number]]
  const apiKeyOf = (id: string): string => {
    const key = tenantsFile.find(t => t.id === id)?.usercom.apiKey
    if (!key) throw new StackError('UCD_ERR_DEMO', `tenant ${id} is not in ${info.tenantsFile ?? ''}`)
    return key
  }
  const appOf = (id: string): string => simulator.apps[id] ?? id
  const revokedKey = apiKeyOf(second.id)

  const adminEnv: Record<string, string | undefined> = { ...options.env, ...info.adminEnv, LOG_LEVEL: 'warn' }
  for (const name of TENANT_VARS) adminEnv[name] = undefined
  const admin = (args: string[]): Promise<AdminResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(node, [join(root, 'apps', 'admin', 'dist', 'main.js'), ...args], {
        cwd: root,
        env: Object.fromEntries(Object.entries(adminEnv).filter(([, v]) => v !== undefined)),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.once('error', reject)
      child.once('close', code => resolve({ code, stdout, stderr }))
    })
  const adminJson = async <T>(args: string[], schema: z.ZodType<T>): Promise<T> => {
    const result = await admin([...args, '--json'])
    if (result.code !== 0) {
      throw new StackError(
        'UCD_ERR_DEMO',
        `pnpm admin ${args.join(' ')} failed (exit ${String(result.code)}):\n${result.stderr}`,
      )
    }
    return schema.parse(JSON.parse(result.stdout))
  }
  const indent = (text: string): string =>
    text
      .trimEnd()
      .split('\n')
      .map(line => `    ${line}`)
      .join('\n')

  const startedAt = new Date(Date.now() - 1000)
  const run = `demo-${Date.now().toString(36)}`
  const streams: { tenant: string; writeKey: string; calls: DemoCall[] }[] = [
    { tenant: first.id, writeKey: first.writeKeys[0] ?? '', calls: deliveredStream(run) },
    { tenant: second.id, writeKey: second.writeKeys[0] ?? '', calls: revokedStream(run) },
  ]
  const [good, bad] = streams as [(typeof streams)[number], (typeof streams)[number]]
  const sinceFlags = ['--reason', 'forbidden', '--tenant', bad.tenant, '--since', startedAt.toISOString()]
  const userOfRecord = (record: DlqRecord): string => {
    const id = record.event.userId ?? record.event.anonymousId
    return typeof id === 'string' ? id : ''
  }
  const ofThisRun = (records: DlqRecord[]): DlqRecord[] =>
    records.filter(r => userOfRecord(r).startsWith(`${run}-`))
  const listDlq = async (): Promise<DlqRecord[]> =>
    ofThisRun(await adminJson(['dlq', 'list', ...sinceFlags, '--limit', '10000'], DlqListSchema))

  /** Polls until `check` returns a value, or throws a UCD_ERR_DEMO_TIMEOUT saying what was missing. */
  const waitUntil = async <T>(
    what: string,
    check: () => Promise<{ done: T } | { missing: string }>,
  ): Promise<{ value: T; seconds: number }> => {
    const started = Date.now()
    let missing = ''
    while (Date.now() - started < timeoutMs) {
      const result = await check()
      if ('done' in result) return { value: result.done, seconds: (Date.now() - started) / 1000 }
      missing = result.missing
      await sleep(500)
    }
    throw new StackError(
      'UCD_ERR_DEMO_TIMEOUT',
      `${what} did not happen within ${timeoutMs / 1000} s; still missing: ${missing}\n` +
        `Look at the stack's output, \`${envLine(info.adminEnv)} pnpm admin stats\` and ${simulator.origin}/__sim/state.`,
    )
  }
  const appState = (state: SimState, tenant: string): SimAppState | undefined => state.apps[appOf(tenant)]
  const undelivered = (stream: (typeof streams)[number], state: SimState): DemoCall[] =>
    stream.calls.filter(call => !isDelivered(call, appState(state, stream.tenant)))

  say('usercom-destination demo')
  say(
    `  stack      ingest ${info.ingest.url}, User.com simulator ${simulator.origin}, ${info.workers.length} workers`,
  )
  say(`  tenants    ${good.tenant} (write key ${good.writeKey}), ${bad.tenant} (write key ${bad.writeKey})`)
  say(`  run id     ${run} (every user and company id below starts with it)`)
  say(`  admin CLI  runs as: ${envLine(info.adminEnv)} pnpm admin ...`)

  let restored = false
  try {
    section(`1. Revoke ${bad.tenant}'s User.com API key (in the simulator)`)
    await sim.revoke(revokedKey)
    say(
      `  POST ${simulator.origin}/__sim/keys/revoke  →  app "${appOf(bad.tenant)}": its key now gets 403 Forbidden`,
    )

    section('2. Send events with @segment/analytics-node (host = the ingest)')
    for (const stream of streams) {
      const analytics = new Analytics({
        writeKey: stream.writeKey,
        host: info.ingest.url,
        flushAt: 20,
        flushInterval: 200,
        maxRetries: 3,
      })
      const errors: unknown[] = []
      analytics.on('error', error => errors.push(error))
      let requests = 0
      analytics.on('http_request', () => (requests += 1))
      for (const call of stream.calls) {
        if (call.type === 'identify') analytics.identify(call.params)
        else if (call.type === 'track') analytics.track(call.params)
        else if (call.type === 'page') analytics.page(call.params)
        else analytics.group(call.params)
      }
      await analytics.closeAndFlush({ timeout: 20_000 })
      if (errors.length > 0) {
        throw new StackError(
          'UCD_ERR_DEMO',
          `the Segment client reported errors for ${stream.tenant}: ${errors.map(String).join('; ')}`,
        )
      }
      const counts = ['identify', 'track', 'page', 'group']
        .map(type => `${type} ×${stream.calls.filter(c => c.type === type).length}`)
        .join(', ')
      say(
        `  ${stream.tenant.padEnd(8)} ${stream.calls.length} events (${counts}) in ${requests} ${requests === 1 ? 'request' : 'requests'} to /v1/batch, accepted`,
      )
    }

    section('3. Wait for delivery to settle')
    const settled = await waitUntil<{ state: SimState; parked: DlqRecord[] }>(
      `delivery of ${good.tenant}'s events and dead-lettering of ${bad.tenant}'s`,
      async () => {
        const state = await sim.state()
        const waiting = undelivered(good, state)
        if (waiting.length > 0) return { missing: `${good.tenant}: ${waiting.map(describeCall).join(', ')}` }
        const parked = await listDlq()
        if (parked.length < bad.calls.length) {
          return {
            missing: `${bad.tenant}: ${bad.calls.length - parked.length} of ${bad.calls.length} events not in the DLQ yet`,
          }
        }
        return { done: { state, parked } }
      },
    )
    const { state, parked } = settled.value
    say(`  settled after ${settled.seconds.toFixed(1)} s:`)
    say(
      `  ${good.tenant.padEnd(8)} ${good.calls.length} of ${good.calls.length} events delivered to User.com`,
    )
    say(
      `  ${bad.tenant.padEnd(8)} ${parked.length} of ${bad.calls.length} events dead-lettered (User.com answered 403)`,
    )

    section(`4. What landed in User.com (${simulator.origin}/__sim/state)`)
    printApp(say, good.tenant, appState(state, good.tenant), run)
    printApp(say, bad.tenant, appState(state, bad.tenant), run)

    section(`5. The dead-letter queue`)
    const listArgs = ['dlq', 'list', ...sinceFlags]
    say(`  $ pnpm admin ${listArgs.join(' ')}`)
    const listed = await admin(listArgs)
    say(indent(listed.stdout || listed.stderr))
    const byType = parked.map(r => String(r.event.type)).sort()
    say(
      `  ${parked.length} records, reason forbidden (status ${parked[0]?.status ?? 403}): ${byType.join(', ')}`,
    )

    section(`6. Restore ${bad.tenant}'s key and replay the dead-lettered events`)
    await sim.restore(revokedKey)
    restored = true
    say(`  POST ${simulator.origin}/__sim/keys/restore  →  app "${appOf(bad.tenant)}": its key works again`)
    const replayArgs = ['dlq', 'replay', ...sinceFlags]
    say(`  $ pnpm admin ${replayArgs.join(' ')}`)
    const replay = await adminJson<ReplaySummary>(
      replayArgs,
      z.custom<ReplaySummary>(v => typeof v === 'object' && v !== null && 'replayed' in v),
    )
    say(
      `    selected ${replay.selected}: replayed ${replay.replayed}, already queued ${replay.alreadyQueued}, ` +
        `failed ${replay.failed}, skipped ${replay.skipped}`,
    )
    if (replay.failed > 0)
      throw new StackError('UCD_ERR_DEMO', `the replay failed for ${replay.failed} records`)

    section('7. After the replay')
    const after = await waitUntil<SimState>(`delivery of ${bad.tenant}'s replayed events`, async () => {
      const now = await sim.state()
      const waiting = undelivered(bad, now)
      if (waiting.length > 0) return { missing: `${bad.tenant}: ${waiting.map(describeCall).join(', ')}` }
      const left = await listDlq()
      if (left.length > 0) return { missing: `${left.length} records still in the DLQ` }
      return { done: now }
    })
    say(`  delivered after ${after.seconds.toFixed(1)} s`)
    printApp(say, bad.tenant, appState(after.value, bad.tenant), run)
    const leftOver = await listDlq()

    section('Result')
    const total = good.calls.length + bad.calls.length
    const delivered =
      good.calls.filter(c => isDelivered(c, appState(after.value, good.tenant))).length +
      bad.calls.filter(c => isDelivered(c, appState(after.value, bad.tenant))).length
    say(
      `  delivered       ${delivered} of ${total} events (${good.tenant} ${good.calls.length} at once, ${bad.tenant} ${bad.calls.length} after the replay)`,
    )
    say(`  dead-lettered   ${parked.length} (${bad.tenant}, forbidden: its key was revoked)`)
    say(
      `  replayed        ${replay.replayed} (already queued ${replay.alreadyQueued}, failed ${replay.failed}, skipped ${replay.skipped})`,
    )
    say(`  DLQ now         ${leftOver.length} records of this run`)
    say()
    say('Demo complete.')
    return 0
  } catch (error) {
    options.err.write(`\ndemo: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  } finally {
    if (!restored) await sim.restore(revokedKey).catch(() => undefined)
  }
}
