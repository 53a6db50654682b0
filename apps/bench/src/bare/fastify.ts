import Fastify from 'fastify'
import { z } from 'zod'
import { exitWithParent, fail, parseArgs } from './common'

// The HTTP ceiling: a bare Fastify server whose routes parse the JSON body (Fastify's default) and
// answer 200 at once. Same body limit as the ingest's batch limit.

const ArgsSchema = z.object({ port: z.number().int().positive() })

async function main(): Promise<void> {
  const { port } = parseArgs(ArgsSchema, process.argv)
  exitWithParent()
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  const ok = { success: true }
  app.post('/v1/batch', (_request, reply) => reply.send(ok))
  app.post('/v1/track', (_request, reply) => reply.send(ok))
  app.get('/health', (_request, reply) => reply.send(ok))
  await app.listen({ host: '127.0.0.1', port })
  process.stdout.write(`bare fastify listening on ${port}\n`)
  const stop = (): void => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch(fail)
