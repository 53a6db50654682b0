import type { RunningSimulator } from '../control'

export const KEY = 'sim-api-key'
export const HEADERS = {
  authorization: `Token ${KEY}`,
  accept: '*/*; version=2',
  'content-type': 'application/json',
}

export interface ApiResponse {
  status: number
  body: any
  headers: Headers
}

/** One request to the simulator's API (path relative to the base URL). */
export async function api(
  sim: RunningSimulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = HEADERS,
): Promise<ApiResponse> {
  const response = await fetch(sim.baseUrl + path, {
    method,
    headers:
      body === undefined
        ? Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'content-type'))
        : headers,
    body: body === undefined ? null : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers }
}

/** The error code of a failed fetch (e.g. UND_ERR_SOCKET, ECONNRESET), or undefined if it answered. */
export async function failureOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return cause?.code ?? (error as Error).message
  }
}
