import { createServer } from 'node:net'
import { freePort } from '@ucd/testing'
import { StackError } from './errors'

/** True when nothing listens on `host:port` (we could bind it a moment ago). */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** A free port on `host` (the OS picks it) that is not in `taken`. */
export async function pickFreePort(host: string, taken: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const port = await freePort(host)
    if (!taken.has(port)) return port
  }
}

export interface PortRequest {
  /** What listens there, for messages: "the ingest". */
  what: string
  /** The variable that sets it: INGEST_PORT. */
  variable: string
  /** Its value: undefined/empty = the default (or any free port if taken), "0" = any free port, N = exactly N. */
  value: string | undefined
  defaultPort: number
  host: string
  /** For a variable that sets several ports (METRICS_PORT: N, N+1, ...), which one this is. */
  offset?: number
}

export interface ChosenPort {
  port: number
  /** Said to the user when the port is not the one they would expect. */
  note?: string
}

/**
 * Picks a port as the stack's settings say: the default when it is free, else any free port (saying
 * so); "0" any free port; an explicit port exactly, or a StackError saying it is taken and what to do.
 * `taken` holds ports already chosen for other processes of the stack (they are not listening yet).
 */
export async function choosePort(request: PortRequest, taken: Set<number>): Promise<ChosenPort> {
  const offset = request.offset ?? 0
  const raw = request.value?.trim() ?? ''
  const pick = (): Promise<number> => pickFreePort(request.host, taken)
  const take = (chosen: ChosenPort): ChosenPort => {
    taken.add(chosen.port)
    return chosen
  }
  if (raw === '0') return take({ port: await pick() })
  if (raw !== '') {
    const base = Number(raw)
    if (!/^\d+$/.test(raw) || base < 1 || base + offset > 65535) {
      throw new StackError(
        'UCD_ERR_STACK_PORT',
        `${request.variable}=${raw} is not a port: use a number from 1 to 65535, or 0 for any free port.`,
      )
    }
    const port = base + offset
    if (taken.has(port) || !(await isPortFree(port, request.host))) {
      const shown = offset > 0 ? `${request.variable}=${raw} (+${offset})` : `${request.variable}=${raw}`
      throw new StackError(
        'UCD_ERR_STACK_PORT',
        `Port ${port} for ${request.what} (${shown}) is taken on ${request.host}: something else listens there.\n` +
          `Stop it, choose another port (${request.variable}=${port + 1}), or ${request.variable}=0 for any free port.`,
      )
    }
    return take({ port })
  }
  const preferred = request.defaultPort + offset
  if (!taken.has(preferred) && (await isPortFree(preferred, request.host))) return take({ port: preferred })
  const port = await pick()
  return take({
    port,
    note: `port ${preferred} is taken: ${request.what} listens on ${port} instead (${request.variable} chooses one)`,
  })
}
