#!/usr/bin/env node
// Container health check without curl or wget: exits 0 when one of the URLs answers 2xx within the
// timeout, 1 otherwise (Docker's HEALTHCHECK contract).
//
//   node infra/docker/healthcheck.cjs [url ...]
//
// Without URLs it asks /health/ready of the ingest (INGEST_PORT, default 8080), then of the worker's
// metrics server (METRICS_PORT, default 9464), so one image-level HEALTHCHECK fits either app.
// HEALTHCHECK_TIMEOUT_MS (default 3000) bounds each request.
'use strict'
const http = require('node:http')

/** The URLs checked when none are given: the readiness routes of the ingest and of a worker. */
function defaultUrls(env) {
  return [
    `http://127.0.0.1:${env.INGEST_PORT || 8080}/health/ready`,
    `http://127.0.0.1:${env.METRICS_PORT || 9464}/health/ready`,
  ]
}

/** Resolves to the status code, or to the error's code when there is no answer within timeoutMs. */
function probe(url, timeoutMs) {
  return new Promise(resolve => {
    const request = http.get(url, { timeout: timeoutMs }, response => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    request.on('error', error => resolve(error.code || error.message))
  })
}

async function main(urls, env) {
  const timeoutMs = Number(env.HEALTHCHECK_TIMEOUT_MS) || 3000
  const results = []
  for (const url of urls.length > 0 ? urls : defaultUrls(env)) {
    const result = await probe(url, timeoutMs)
    if (typeof result === 'number' && result >= 200 && result < 300) return 0
    results.push(`${url}: ${result}`)
  }
  process.stderr.write(`unhealthy: ${results.join('; ')}\n`)
  return 1
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    code => process.exit(code),
    error => {
      process.stderr.write(`healthcheck failed: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(1)
    },
  )
}

module.exports = { defaultUrls, probe }
