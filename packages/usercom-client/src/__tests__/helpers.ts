import { inspect } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from '@jest/globals'
import { startSimulator, type RunningSimulator } from '@ucd/usercom-sim'
import { createUsercomClient, type UsercomClient, type UsercomResponseInfo } from '../client'
import { UsercomError } from '../errors'

export const KEY = 'client-test-key-0123456789abcdef0123456789abcdef0123456789abcdef'

/** A client against `baseUrl`, kept in `clients` (to close) and reporting into `responses`. */
export const trackedClient = (
  baseUrl: string,
  clients: UsercomClient[],
  responses: UsercomResponseInfo[],
  options: Partial<Parameters<typeof createUsercomClient>[0]> = {},
): UsercomClient => {
  const created = createUsercomClient({
    baseUrl,
    apiKey: KEY,
    timeoutMs: 5000,
    maxSockets: 8,
    onResponse: info => responses.push(info),
    ...options,
  })
  clients.push(created)
  return created
}

/** What a client test file runs against: a simulator app `acme` for KEY, its clients and their responses. */
export interface ClientSuite {
  /** The file's simulator (started in `beforeAll`). */
  readonly sim: RunningSimulator
  /** Every response the file's clients reported since the last test began. */
  readonly responses: UsercomResponseInfo[]
  /** A client against the simulator, closed after the test. */
  client(options?: Partial<Parameters<typeof createUsercomClient>[0]>): UsercomClient
}

/**
 * Registers the file's hooks: the simulator started once and closed at the end, reset before each
 * test (and the responses cleared), the test's clients closed after it. Call it at the top level.
 */
export function useClientSuite(): ClientSuite {
  let sim: RunningSimulator | undefined
  const clients: UsercomClient[] = []
  const responses: UsercomResponseInfo[] = []
  const started = (): RunningSimulator => {
    if (sim === undefined) throw new Error('the simulator starts in beforeAll')
    return sim
  }
  beforeAll(async () => {
    sim = await startSimulator({ keys: [{ key: KEY, app: 'acme', revoked: false }] })
  })
  afterAll(async () => {
    await sim?.close()
  })
  beforeEach(async () => {
    await started().admin.reset()
    responses.length = 0
  })
  afterEach(() => {
    for (const c of clients.splice(0)) c.close()
  })
  return {
    get sim() {
      return started()
    },
    responses,
    client: (options = {}) => trackedClient(started().baseUrl, clients, responses, options),
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<UsercomError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UsercomError)
    return error as UsercomError
  }
  throw new Error('expected a failure, got a result')
}

/** Nothing of the key may show in any form of the error. */
export function expectNoSecret(error: unknown): void {
  const forms = [
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
    String((error as Error).stack),
    String((error as Error).message),
    JSON.stringify(Object.entries(error as object)),
  ]
  for (const form of forms) {
    expect(form).not.toContain(KEY)
    expect(form).not.toMatch(/Token [A-Za-z0-9]/)
  }
  expect(Object.keys(error as object)).not.toEqual(expect.arrayContaining(['config']))
  expect(Object.keys(error as object)).not.toEqual(expect.arrayContaining(['request']))
}
