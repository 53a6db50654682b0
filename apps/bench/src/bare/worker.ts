import { Agent } from 'node:http'
import axios from 'axios'
import { Worker, type Job } from 'bullmq'
import { z } from 'zod'
import { exitWithParent, fail, parseArgs, redisHostPort } from './common'

// The worker ceiling: a bare BullMQ worker that makes one axios POST /events/ per job to the same
// simulator (keep-alive, the user's id known in advance), and nothing else: no validation, no
// planning, no caches, no metrics, no logs.

const ArgsSchema = z.object({
  redisUrl: z.string(),
  prefix: z.string(),
  concurrency: z.number().int().positive(),
  baseUrl: z.string(),
  apiKey: z.string(),
  /** custom_id → User.com id, created before the run. */
  userIds: z.record(z.string(), z.number()),
})

interface JobData {
  event: { userId: string; event: string; properties: Record<string, unknown>; timestamp: string }
}

async function main(): Promise<void> {
  const args = parseArgs(ArgsSchema, process.argv)
  exitWithParent()
  const http = axios.create({
    baseURL: args.baseUrl,
    headers: { Authorization: `Token ${args.apiKey}`, Accept: '*/*; version=2' },
    httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }),
  })
  const worker = new Worker(
    'events',
    async (job: Job<JobData>) => {
      const { event } = job.data
      await http.post('events/', {
        user_id: args.userIds[event.userId],
        name: event.event,
        data: event.properties,
        timestamp: Math.floor(Date.parse(event.timestamp) / 1000),
      })
    },
    {
      connection: { ...redisHostPort(args.redisUrl), maxRetriesPerRequest: null },
      prefix: args.prefix,
      concurrency: args.concurrency,
    },
  )
  worker.on('error', error => process.stderr.write(`worker error: ${error.message}\n`))
  await worker.waitUntilReady()
  process.stdout.write('bare worker ready\n')
  const stop = (): void => {
    worker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch(fail)
