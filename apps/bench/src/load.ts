import autocannon from 'autocannon'

// autocannon, programmatic: `connections` keep-alive connections each sending the next request as
// soon as the previous one was answered, for `durationS` seconds.

export interface LoadOptions {
  url: string
  path: string
  connections: number
  durationS: number
  headers: Record<string, string>
  /** A fresh body per request. */
  body: () => string
}

export interface LoadResult {
  durationS: number
  requests: number
  non2xx: number
  errors: number
  latencyP50Ms: number
  latencyP99Ms: number
}

let current: { stop(): void } | undefined

/** Stops the autocannon run in progress, if any (Ctrl-C). */
export function stopLoad(): void {
  current?.stop()
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers: options.headers,
        setupRequest: request => ({ ...request, body: options.body() }),
      },
    ],
  })
  current = instance
  try {
    const result = await instance
    return {
      durationS: result.duration,
      requests: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
    }
  } finally {
    current = undefined
  }
}
