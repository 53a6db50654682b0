import { ConfigError, formatConfigProblems, loadConfig, type Config } from '@ucd/config'
import { StackError } from './errors'
import type { StackEnv } from './plan'

/**
 * Each app's Config. Each app reads only its own variables, so both are loaded and every problem of
 * either is reported at once (a shared variable's problem once).
 */
export function validateAppConfigs(
  ingestEnv: StackEnv,
  workerEnv: StackEnv,
): { ingest: Config; worker: Config } {
  const problems: ConfigError['problems'][number][] = []
  const load = (env: StackEnv, app: 'ingest' | 'worker'): Config | undefined => {
    try {
      return loadConfig(env, { app })
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      for (const p of error.problems)
        if (!problems.some(q => q.variable === p.variable && q.message === p.message)) problems.push(p)
      return undefined
    }
  }
  const ingest = load(ingestEnv, 'ingest')
  const worker = load(workerEnv, 'worker')
  if (ingest === undefined || worker === undefined) {
    throw new StackError(
      'UCD_ERR_STACK_CONFIG',
      `The settings of the ingest and the workers are not valid:\n${formatConfigProblems(problems)}\n` +
        '(See the root README, "Configuration", and infra/local/README.md.)',
    )
  }
  return { ingest, worker }
}
