import type { StackEnv } from './plan'
import { choosePort, type ChosenPort } from './ports'

/** How many workers the local stack runs. */
export const WORKER_COUNT = 2
export const DEFAULT_PORTS = { ingest: 8080, ingestMetrics: 9463, simulator: 4010, metrics: 9464 } as const

export interface StackPorts {
  ingestHost: string
  metricsHost: string
  simHost: string
  ingestPort: number
  /** The ingest's /metrics (its own port, never the public one). */
  ingestMetricsPort: number
  /** Undefined when the stack runs against a real User.com. */
  simPort: number | undefined
  /** One per worker. */
  metricsPorts: number[]
  /** Why a port other than the asked one was taken, one line each. */
  notes: string[]
}

/**
 * The ports of the stack's processes, each free (or said why not) before anything listens; each chosen
 * port is added to `taken`.
 */
export async function chooseStackPorts(
  env: StackEnv,
  simulator: boolean,
  taken: Set<number>,
): Promise<StackPorts> {
  const notes: string[] = []
  const note = (chosen: ChosenPort): number => {
    if (chosen.note) notes.push(chosen.note)
    return chosen.port
  }
  const ingestHost = env.INGEST_HOST?.trim() || '127.0.0.1'
  const metricsHost = env.METRICS_HOST?.trim() || '127.0.0.1'
  const simHost = '127.0.0.1'
  const ingestPort = note(
    await choosePort(
      {
        what: 'the ingest',
        variable: 'INGEST_PORT',
        value: env.INGEST_PORT,
        defaultPort: DEFAULT_PORTS.ingest,
        host: ingestHost,
      },
      taken,
    ),
  )
  const ingestMetricsPort = note(
    await choosePort(
      {
        what: "the ingest's metrics",
        variable: 'INGEST_METRICS_PORT',
        value: env.INGEST_METRICS_PORT,
        defaultPort: DEFAULT_PORTS.ingestMetrics,
        host: metricsHost,
      },
      taken,
    ),
  )
  const simPort = simulator
    ? note(
        await choosePort(
          {
            what: 'the User.com simulator',
            variable: 'SIM_PORT',
            value: env.SIM_PORT,
            defaultPort: DEFAULT_PORTS.simulator,
            host: simHost,
          },
          taken,
        ),
      )
    : undefined
  const metricsPorts: number[] = []
  for (let i = 0; i < WORKER_COUNT; i++) {
    metricsPorts.push(
      note(
        await choosePort(
          {
            what: `worker-${i + 1}'s metrics`,
            variable: 'METRICS_PORT',
            value: env.METRICS_PORT,
            defaultPort: DEFAULT_PORTS.metrics,
            host: metricsHost,
            offset: i,
          },
          taken,
        ),
      ),
    )
  }
  return { ingestHost, metricsHost, simHost, ingestPort, ingestMetricsPort, simPort, metricsPorts, notes }
}
