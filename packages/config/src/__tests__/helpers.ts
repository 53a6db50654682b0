import { ConfigError } from '../index'
import type { ConfigProblem } from '../load'

export const WRITE_KEY = 'wk_live_5f0c1d2e3a4b5c6d'
export const API_KEY = 'uc_api_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab'

export const ingestEnv = { SEGMENT_WRITE_KEY: WRITE_KEY }
export const workerEnv = { USERCOM_API_KEY: API_KEY, USERCOM_APP_SUBDOMAIN: 'acme' }

export function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  throw new Error('expected a ConfigError')
}
