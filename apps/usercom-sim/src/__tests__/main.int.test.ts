import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { spawnApp } from '@ucd/testing'

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js')

describe('pnpm sim (dist/main.js)', () => {
  it('starts from env and flags, logs its URL, serves the API and exits 0 on SIGTERM', async () => {
    const app = await spawnApp({
      args: [MAIN, '--port', '0', '--keys=main-test-key:acme'],
      env: { SIM_LATENCY_MS: '1', LOG_PRETTY: 'false' },
      readyPattern: /usercom-sim listening on http:\/\/127\.0\.0\.1:\d+\/api\/public\//,
    })
    try {
      const baseUrl = /listening on (http:\/\/\S+?\/api\/public\/)/.exec(app.stdout())?.[1] ?? ''
      const origin = new URL(baseUrl).origin
      expect((await fetch(`${origin}/__sim/health`)).status).toBe(200)
      const response = await fetch(`${baseUrl}users/update_or_create/`, {
        method: 'POST',
        headers: {
          authorization: 'Token main-test-key',
          accept: '*/*; version=2',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ custom_id: 'u1' }),
      })
      expect(response.status).toBe(200)
      const state = (await (await fetch(`${origin}/__sim/state`)).json()) as { apps: Record<string, unknown> }
      expect(Object.keys(state.apps)).toEqual(['acme'])
      expect(state.apps).toMatchObject({ acme: { users: [{ custom_id: 'u1' }] } })
    } finally {
      const exit = await app.stop('SIGTERM')
      expect(exit.code).toBe(0)
      expect(exit.stdout).not.toContain('main-test-key')
    }
  })

  it('exits 1 and names every invalid setting', () => {
    const exit = spawnSync(process.execPath, [MAIN], {
      env: { ...process.env, SIM_PORT: 'eighty', SIM_ERROR_RATE: '7' },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(exit.status).toBe(1)
    expect(exit.stderr).toMatch(/SIM_PORT/)
    expect(exit.stderr).toMatch(/SIM_ERROR_RATE/)
  })
})
