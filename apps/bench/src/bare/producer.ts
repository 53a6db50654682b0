import { writeFileSync } from 'node:fs'
import { Queue } from 'bullmq'
import { z } from 'zod'
import { cpuTimeMs } from '../procs'
import { percentile } from '../stats'
import { messageIdOf, TENANT_ID, trackEvent } from '../workload'
import { exitWithParent, fail, parseArgs, redisHostPort } from './common'

// The Redis ceiling of the ingest: `loops` parallel loops, each adding `eventsPerCall` jobs with one
// `addBulk` and starting again as soon as Redis answered. The jobs carry the same events as the
// ingest's requests (as objects, with a unique job id each), and nothing else is done.

const ArgsSchema = z.object({
  redisUrl: z.string(),
  prefix: z.string(),
  loops: z.number().int().positive(),
  eventsPerCall: z.number().int().positive(),
  users: z.number().int().positive(),
  tag: z.string(),
  warmupMs: z.number().int().nonnegative(),
  durationMs: z.number().int().positive(),
  resultFile: z.string(),
  /** For the CPU time Redis spends on the measured calls. */
  redisPid: z.number().int().optional(),
})

async function main(): Promise<void> {
  const args = parseArgs(ArgsSchema, process.argv)
  exitWithParent()
  const queue = new Queue('events', { connection: redisHostPort(args.redisUrl), prefix: args.prefix })
  await queue.waitUntilReady()
  const timestamp = new Date().toISOString()
  const base = Array.from({ length: args.users }, (_, user) => trackEvent(user, '', timestamp))
  let sequence = 0
  const jobs = () =>
    Array.from({ length: args.eventsPerCall }, () => {
      const seq = sequence++
      const messageId = messageIdOf(args.tag, seq)
      const event = { ...base[seq % args.users], messageId }
      return {
        name: 'track',
        data: { tenantId: TENANT_ID, event, receivedAt: new Date().toISOString() },
        opts: { jobId: messageId, removeOnComplete: true },
      }
    })

  const start = performance.now()
  const measureFrom = start + args.warmupMs
  const end = measureFrom + args.durationMs
  const latencies: number[] = []
  let calls = 0
  // CPU: from the start of the window to the last call, over every call started in the window.
  const redisCpu = (): number => (args.redisPid === undefined ? 0 : (cpuTimeMs(args.redisPid) ?? 0))
  let cpu0 = process.cpuUsage()
  let redis0 = 0
  const startWindow = setTimeout(() => {
    cpu0 = process.cpuUsage()
    redis0 = redisCpu()
  }, args.warmupMs)
  let callsForCpu = 0
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const batch = jobs()
      const t = performance.now()
      await queue.addBulk(batch)
      const done = performance.now()
      if (t >= measureFrom) callsForCpu += 1
      if (t >= measureFrom && done <= end) {
        calls += 1
        latencies.push(done - t)
      }
    }
  }
  await Promise.all(Array.from({ length: args.loops }, loop))
  clearTimeout(startWindow)
  const cpu = process.cpuUsage(cpu0)
  const redisMs = redisCpu() - redis0
  const eventsForCpu = callsForCpu * args.eventsPerCall
  const seconds = args.durationMs / 1000
  writeFileSync(
    args.resultFile,
    JSON.stringify({
      calls,
      eventsPerSec: (calls * args.eventsPerCall) / seconds,
      latencyP50Ms: percentile(latencies, 50) ?? 0,
      latencyP99Ms: percentile(latencies, 99) ?? 0,
      cpuUsPerEvent: eventsForCpu > 0 ? (cpu.user + cpu.system) / eventsForCpu : 0,
      redisCpuUsPerEvent: eventsForCpu > 0 ? (redisMs * 1000) / eventsForCpu : 0,
    }),
  )
  await queue.close()
  process.exit(0)
}

main().catch(fail)
