import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import Fastify from 'fastify'
import { z } from 'zod'
import { TENANT_ID } from '../workload'
import { exitWithParent, fail, parseArgs, redisHostPort } from './common'

// The per-request ceiling of the ingest's single-event routes (issue 20): a bare Fastify route that
// parses the body and does what the ingest did per request before coalescing, one `addBulk` of one job,
// with no validation, normalisation or dedupe, then answers 200.

const ArgsSchema = z.object({ port: z.number().int().positive(), redisUrl: z.string(), prefix: z.string() })

async function main(): Promise<void> {
  const { port, redisUrl, prefix } = parseArgs(ArgsSchema, process.argv)
  exitWithParent()
  const queue = new Queue('events', { connection: redisHostPort(redisUrl), prefix })
  await queue.waitUntilReady()
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  const ok = { success: true }
  app.post('/v1/track', async (request, reply) => {
    const event = request.body as Record<string, unknown>
    const jobId = typeof event.messageId === 'string' ? event.messageId : randomUUID()
    await queue.addBulk([
      {
        name: 'track',
        data: { tenantId: TENANT_ID, event, receivedAt: new Date().toISOString() },
        opts: { jobId, removeOnComplete: true },
      },
    ])
    return reply.send(ok)
  })
  app.get('/health', (_request, reply) => reply.send(ok))
  await app.listen({ host: '127.0.0.1', port })
  process.stdout.write(`bare fastify+addBulk listening on ${port}\n`)
  const stop = (): void => {
    Promise.all([app.close(), queue.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch(fail)
