import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { freePort, testRedisUrl } from '../index'

// What the README's test command relies on: Jest on the shared preset exits non-zero when a test
// fails and when no Redis can be had, and zero otherwise.
const fixture = join(__dirname, '../../fixtures/harness')
const jestBin = require.resolve('jest/bin/jest')

function runFixture(name: string, env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    [jestBin, '--config', join(fixture, 'jest.config.cjs'), '--ci'],
    {
      cwd: fixture,
      env: { ...process.env, UCD_FIXTURE: name, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  )
  return { code: result.status, output: `${result.stdout}\n${result.stderr}` }
}

describe('the test harness exit code', () => {
  it('is 0 when every test passes and Redis answers', () => {
    const run = runFixture('passing', { REDIS_URL: testRedisUrl() })
    expect(run.output).toContain('1 passed')
    expect(run.code).toBe(0)
  })

  it('is non-zero when a test fails', () => {
    const run = runFixture('failing', { REDIS_URL: testRedisUrl() })
    expect(run.output).toContain('fails on purpose')
    expect(run.code).not.toBe(0)
  })

  it('is non-zero, with how to get Redis, when Redis cannot be had', async () => {
    const run = runFixture('passing', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` })
    expect(run.output).toContain('REDIS_URL is set but no Redis answers')
    expect(run.output).toContain('Tests need a real Redis')
    expect(run.code).not.toBe(0)
  })
})
