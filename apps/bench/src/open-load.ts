import { connect, type Socket } from 'node:net'
import type { LoadOptions, LoadResult } from './load'

// An open-loop load generator: requests are due at a fixed total rate (evenly spaced, checked every
// millisecond), whatever the server's answers; each goes out on an idle keep-alive connection, or
// waits for one. Latency is counted from when a request was due, not when it could be sent, so a
// server that falls behind shows it (no coordinated omission).
//
// autocannon's `overallRate` is not that: each connection sends as fast as it is answered until it
// has used its share of the second, then pauses until the next second (a closed loop in bursts), and
// it corrects latencies by an "expected interval" of 1 ms. Hence this small client: plain sockets,
// one request in flight per connection, answers read by Content-Length (what the ingest sends) or to
// the last chunk.

export interface OpenLoadOptions extends LoadOptions {
  /** Requests per second over all connections. */
  overallRate: number
  /**
   * Seconds sent at the same rate on the same connections before `durationS` is measured: requests
   * due before then are neither counted nor timed. So the measured window is the steady state, not
   * the setup of 100 fresh connections (whose first requests queue behind their handshakes).
   */
  warmupS?: number
  /** Called when the measured window starts (after the warm-up), e.g. to read CPU counters. */
  onMeasuring?: () => void
}

const HEADER_END = Buffer.from('\r\n\r\n')
const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n')

interface Connection {
  socket: Socket
  /** When the request in flight was due (hrtime ms), or undefined when idle. */
  dueAt: number | undefined
  buffered: Buffer
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

/** The status code of a complete response at the head of `data` and its length, or undefined. */
export function parseResponse(data: Buffer): { status: number; length: number } | undefined {
  const end = data.indexOf(HEADER_END)
  if (end === -1) return undefined
  const head = data.subarray(0, end).toString('latin1')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1])
  const bodyStart = end + HEADER_END.length
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    // Small bodies only (what the ingest answers): the end is the last, empty chunk.
    const last = data.indexOf(LAST_CHUNK, bodyStart - 2)
    return last === -1 ? undefined : { status, length: last + LAST_CHUNK.length }
  }
  const length = bodyStart + Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
  return data.length >= length ? { status, length } : undefined
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 100) / 100
}

export async function runOpenLoad(options: OpenLoadOptions): Promise<LoadResult> {
  const url = new URL(options.url)
  const headerLines = Object.entries({ host: url.host, connection: 'keep-alive', ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  const request = (): Buffer => {
    const body = Buffer.from(options.body())
    return Buffer.concat([
      Buffer.from(`POST ${options.path} HTTP/1.1\r\n${headerLines}content-length: ${body.length}\r\n\r\n`),
      body,
    ])
  }

  const latencies: number[] = []
  /** Due times before this are the warm-up's (set when sending starts). */
  let measuredFrom = Number.POSITIVE_INFINITY
  let ok = 0
  let non2xx = 0
  let errors = 0
  /** Due times of requests waiting for an idle connection (the generator's own backlog). */
  const backlog: number[] = []
  const idle: Connection[] = []
  let stopping = false

  const send = (connection: Connection, dueAt: number): void => {
    connection.dueAt = dueAt
    connection.socket.write(request())
  }
  const release = (connection: Connection): void => {
    const next = backlog.shift()
    if (next !== undefined && !stopping) send(connection, next)
    else idle.push(connection)
  }

  const connections = await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<Connection>((resolve, reject) => {
          const socket = connect(Number(url.port), url.hostname, () => resolve(connection))
          const connection: Connection = { socket, dueAt: undefined, buffered: Buffer.alloc(0) }
          socket.setNoDelay(true)
          socket.once('error', reject)
          socket.on('data', (chunk: Buffer) => {
            connection.buffered =
              connection.buffered.length === 0 ? chunk : Buffer.concat([connection.buffered, chunk])
            const response = parseResponse(connection.buffered)
            if (response === undefined || connection.dueAt === undefined) return
            connection.buffered = connection.buffered.subarray(response.length)
            if (connection.dueAt < measuredFrom) {
              // A warm-up request: not counted.
            } else if (response.status >= 200 && response.status < 300) {
              ok += 1
              latencies.push(nowMs() - connection.dueAt)
            } else non2xx += 1
            connection.dueAt = undefined
            release(connection)
          })
        }),
    ),
  )
  for (const connection of connections) {
    connection.socket.removeAllListeners('error')
    connection.socket.on('error', () => {
      errors += 1
    })
    idle.push(connection)
  }

  const started = nowMs()
  measuredFrom = started + (options.warmupS ?? 0) * 1000
  const intervalMs = 1000 / options.overallRate
  let sent = 0
  let measuring = false
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const now = nowMs()
      if (!measuring && now >= measuredFrom) {
        measuring = true
        options.onMeasuring?.()
      }
      if (now - measuredFrom >= options.durationS * 1000) {
        resolve()
        return
      }
      // Every request due by now: on an idle connection, or into the backlog.
      while (started + sent * intervalMs <= now) {
        const dueAt = started + sent * intervalMs
        sent += 1
        const connection = idle.pop()
        if (connection) send(connection, dueAt)
        else backlog.push(dueAt)
      }
      setTimeout(tick, 1)
    }
    tick()
  })
  stopping = true
  const durationS = (nowMs() - measuredFrom) / 1000
  // Answers still on their way are not waited for; neither counted (as autocannon does at the end).
  for (const connection of connections) connection.socket.destroy()
  latencies.sort((a, b) => a - b)
  return {
    durationS,
    requests: ok,
    non2xx,
    errors,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
  }
}
