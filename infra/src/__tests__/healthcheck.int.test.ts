// infra/docker/healthcheck.cjs, run as Docker runs it (a child process), against real HTTP servers on
// loopback: it must pass on 2xx and fail on anything else, so a container is only "healthy" when the
// route answers.
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { freePort } from '@ucd/testing'
import { REPO_ROOT } from '../files'

const SCRIPT = join(REPO_ROOT, 'infra', 'docker', 'healthcheck.cjs')

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stderr }))
  })
}

/** Answers every path with the status the map gives it (404 for the rest); '/slow' never answers. */
function listen(statuses: Record<string, number>): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/slow') return
    response.statusCode = statuses[request.url ?? ''] ?? 404
    response.end()
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)))
}

describe('infra/docker/healthcheck.cjs', () => {
  let ready: Server
  let notReady: Server
  let readyUrl: string
  let notReadyUrl: string

  beforeAll(async () => {
    ready = await listen({ '/health/ready': 200, '/health/live': 200 })
    notReady = await listen({ '/health/ready': 503, '/health/live': 200 })
    readyUrl = `http://127.0.0.1:${(ready.address() as AddressInfo).port}`
    notReadyUrl = `http://127.0.0.1:${(notReady.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    ready.closeAllConnections()
    notReady.closeAllConnections()
    await Promise.all([ready, notReady].map(s => new Promise(resolve => s.close(resolve))))
  })

  it('exits 0 when the URL answers 2xx', async () => {
    expect((await run([`${readyUrl}/health/ready`])).code).toBe(0)
  })

  it('exits 1 when the URL answers 503, and says what it saw', async () => {
    const result = await run([`${notReadyUrl}/health/ready`])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('503')
  })

  it('exits 1 when nothing listens on the port', async () => {
    const port = await freePort()
    const result = await run([`http://127.0.0.1:${port}/health/ready`])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('ECONNREFUSED')
  })

  it('exits 1 when the answer does not come within HEALTHCHECK_TIMEOUT_MS', async () => {
    const result = await run([`${readyUrl}/slow`], { HEALTHCHECK_TIMEOUT_MS: '300' })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('ETIMEDOUT')
  })

  it('passes when any of several URLs is healthy', async () => {
    expect((await run([`${notReadyUrl}/health/ready`, `${readyUrl}/health/ready`])).code).toBe(0)
  })

  it('without URLs, checks /health/ready on INGEST_PORT, then on METRICS_PORT', async () => {
    const closed = String(await freePort())
    const readyPort = String((ready.address() as AddressInfo).port)
    const notReadyPort = String((notReady.address() as AddressInfo).port)
    // As the ingest image: INGEST_PORT answers.
    expect((await run([], { INGEST_PORT: readyPort, METRICS_PORT: closed })).code).toBe(0)
    // As a worker image: nothing on the ingest port, the metrics port answers.
    expect((await run([], { INGEST_PORT: closed, METRICS_PORT: readyPort })).code).toBe(0)
    // Neither ready.
    expect((await run([], { INGEST_PORT: closed, METRICS_PORT: notReadyPort })).code).toBe(1)
  })
})
