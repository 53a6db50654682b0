// Data fidelity through the whole pipeline (issue 17): the real Segment Node.js library → the ingest
// (HTTP, in process) → Redis/BullMQ → the worker → the User.com simulator. An identify with one field
// User.com refuses lands with every other trait, and its delivery record (the job's return value)
// lists the refused field; a group whose `address.street` has 300 characters creates the company (the
// address cut) and adds the member, instead of being dead-lettered.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Analytics } from '@segment/analytics-node'
import { loadConfig, type Config } from '@ucd/config'
import { buildApp, createIngestMetrics, EventProducer } from '@ucd/ingest'
import { createLogger } from '@ucd/logger'
import { cleanupPrefix, freePort, testRedisUrl, uniquePrefix, waitFor } from '@ucd/testing'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { buildWorker, usercomDelivery, type BuiltWorker } from '@ucd/worker'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
const API_KEY = 'uc_fidelity_key_0123456789abcdef0123456789abcdef0123456789abcdef'
const WRITE_KEY = 'wk_fidelity_0123456789abcdef'

let sim: RunningSimulator
let ingest: Awaited<ReturnType<typeof buildApp>>
let producer: EventProducer
let worker: BuiltWorker
let host = ''
/** The worker's return value of every job, by `<type>:<userId>`. */
const results = new Map<string, { outcome: string; dropped?: readonly { field: string; reason: string }[] }>()
const failures: string[] = []

function config(app: 'ingest' | 'worker'): Config {
  const tenants = [{ id: 'acme', writeKeys: [WRITE_KEY], usercom: { apiKey: API_KEY, baseUrl: sim.baseUrl } }]
  return loadConfig(
    {
      REDIS_URL: url,
      QUEUE_PREFIX: prefix,
      TENANTS_FILE: '/etc/ucd/tenants.json',
      WORKER_CONCURRENCY: '4',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '200',
      USERCOM_TIMEOUT_MS: '5000',
      WORKER_DRAIN_TIMEOUT_MS: '3000',
      METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
    },
    { app, readFile: () => JSON.stringify(tenants) },
  )
}

beforeAll(async () => {
  sim = await startSimulator({ keys: [{ key: API_KEY, app: 'acme', revoked: false }] })
  await sim.admin.seedAttributes({
    app: 'acme',
    attributes: [
      { name: 'plan', value_type: 'string' },
      { name: 'tier', value_type: 'fixed', choices: ['gold', 'silver'] },
    ],
  })
  const ingestConfig = config('ingest')
  const logger = createLogger({ service: 'fidelity-ingest', level: 'silent' })
  const metrics = createIngestMetrics()
  producer = EventProducer.fromConfig(ingestConfig, logger, metrics)
  ingest = await buildApp({ config: ingestConfig, logger, producer, metrics })
  const port = await freePort()
  await ingest.listen({ host: '127.0.0.1', port })
  host = `http://127.0.0.1:${port}`
  worker = buildWorker({
    config: config('worker'),
    logger: createLogger({ service: 'fidelity-worker', level: 'silent' }),
    deliveryFor: usercomDelivery,
  })
  worker.worker.on('completed', (job, result) => {
    results.set(`${job.data.event.type}:${job.data.event.userId ?? ''}`, result)
  })
  worker.worker.on('failed', job => failures.push(String(job?.id)))
}, 60_000)

afterAll(async () => {
  await worker.close(3000)
  await ingest.close()
  await producer.close()
  await sim.close()
  await cleanupPrefix(url, prefix)
}, 60_000)

async function send(calls: (analytics: Analytics) => void): Promise<void> {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host, flushAt: 10, maxRetries: 2 })
  const errors: unknown[] = []
  analytics.on('error', error => errors.push(error))
  calls(analytics)
  await analytics.closeAndFlush({ timeout: 20_000 })
  expect(errors).toEqual([])
}

const state = async () => (await sim.admin.state('acme')).apps.acme
const resultOf = (key: string) =>
  waitFor(() => results.get(key), { timeoutMs: 30_000, description: `the job of ${key} completed` })

describe('partial acceptance through the whole pipeline', () => {
  it('an identify with one refused field lands with every other trait; its record lists the field', async () => {
    await send(analytics =>
      analytics.identify({
        userId: 'u-refused',
        traits: {
          email: 'peter@example.com',
          firstName: 'Peter',
          phone: '(415) 555-0132',
          address: { country: 'USA', city: 'Austin' },
          plan: 'premium',
          tier: 'platinum',
        },
      }),
    )
    const result = await resultOf('identify:u-refused')
    expect(result.outcome).toBe('delivered')
    expect(result.dropped).toContainEqual({
      field: 'user.tier',
      reason: expect.stringMatching(/^refused by User\.com: .*not a valid choice/) as unknown as string,
    })
    const user = (await state())?.users.find(u => u.custom_id === 'u-refused')
    expect(user).toMatchObject({
      email: 'peter@example.com',
      first_name: 'Peter',
      phone_number: '+14155550132',
      country: 'USA',
      city: 'Austin',
    })
    expect(user?.attributes).toMatchObject({ plan: 'premium' })
    expect(user?.attributes).not.toHaveProperty('tier')
    expect((await sim.admin.state('acme')).apps.acme?.users).toHaveLength(1)
    expect(await worker.deadLetter.getJobCounts()).toMatchObject({ waiting: 0 })
  })

  it('a group whose address.street has 300 characters: the company with the address cut, and the member', async () => {
    await send(analytics =>
      analytics.group({
        userId: 'u-street',
        groupId: 'g-long-street',
        traits: { name: 'Initech', address: { street: 's'.repeat(300), city: 'Austin' } },
      }),
    )
    const result = await resultOf('group:u-street')
    expect(result.outcome).toBe('delivered')
    expect(result.dropped?.map(d => d.reason)).toContain('truncated to 255 characters (address)')
    const current = await state()
    const company = current?.companies.find(c => c.custom_id === 'g-long-street')
    expect(company?.name).toBe('Initech')
    expect(company?.address).toHaveLength(255)
    expect(company?.city).toBe('Austin')
    const member = current?.users.find(u => u.custom_id === 'u-street')
    expect(company?.members).toEqual([member?.id])
    expect(failures).toEqual([])
  })
})
