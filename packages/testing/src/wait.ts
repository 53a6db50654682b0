export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Said in the error when the condition never held. */
  description?: string
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, and returns that value.
 * Throws after `timeoutMs` with the description and the last error seen, so a failing test says why.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 50, description = 'condition' }: WaitOptions = {},
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : ''
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}${why}`)
    }
    await sleep(intervalMs)
  }
}
