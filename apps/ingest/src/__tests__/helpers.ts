import { Writable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { loadConfig, type Config } from '@ucd/config'
import { createLogger, type Logger } from '@ucd/logger'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp, type BuildAppOptions } from '../app'

export const WRITE_KEY = 'wk_test_0123456789abcdef'

/** A Redis URL where nothing listens (port 1): for tests that must not reach Redis. */
export const NO_REDIS_URL = 'redis://127.0.0.1:1'

export function testConfig(env: Record<string, string | undefined> = {}, tenantsFile?: string): Config {
  return loadConfig(
    {
      SEGMENT_WRITE_KEY: tenantsFile === undefined ? WRITE_KEY : undefined,
      TENANTS_FILE: tenantsFile === undefined ? undefined : '/tenants.json',
      LOG_LEVEL: 'info',
      ...env,
    },
    { app: 'ingest', readFile: () => tenantsFile ?? '[]' },
  )
}

/** A logger writing JSON lines into memory. */
export function memoryLogger(secrets: readonly string[] = []): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      callback()
    },
  })
  return {
    logger: createLogger({ service: 'ingest', level: 'info', pretty: false, secrets, destination }),
    lines,
  }
}

export async function testApp(
  env: Record<string, string | undefined>,
  extra: Partial<BuildAppOptions> & { tenantsFile?: string } = {},
): Promise<{ app: FastifyInstance; config: Config; lines: string[] }> {
  const config = testConfig(env, extra.tenantsFile)
  const { logger, lines } = memoryLogger(config.secrets)
  const app = await buildApp({ config, logger, ...extra })
  return { app, config, lines }
}

export const basic = (user: string, password = ''): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

export const gzipJson = (value: unknown): Buffer => gzipSync(Buffer.from(JSON.stringify(value)))

export const json = (response: LightMyRequestResponse): any => JSON.parse(response.body)

/** Polls /health/ready until the app reports Redis ready. */
export async function untilReady(app: FastifyInstance, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    if (response.statusCode === 200) return
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${response.body}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Raw request bodies as a Segment client POSTs them (no messageId, receivedAt or context: the ingest adds
 * those), not normalised events: for those, `testEvent` of `@ucd/segment/testing`.
 */
export const identify = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  userId: '019mr8mf4r',
  traits: { email: 'pgibbons@example.com', name: 'Peter Gibbons' },
  timestamp: '2012-12-02T00:30:08.276Z',
  ...extra,
})

export const track = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  userId: '019mr8mf4r',
  event: 'Item Purchased',
  properties: { name: 'Leap to Conclusions Mat', revenue: 14.99 },
  timestamp: '2012-12-02T00:30:12.984Z',
  ...extra,
})
