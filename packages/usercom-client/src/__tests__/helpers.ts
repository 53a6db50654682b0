import { inspect } from 'node:util'
import { expect } from '@jest/globals'
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
