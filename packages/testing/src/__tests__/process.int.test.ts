import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { spawnApp } from '../index'

const app = join(__dirname, '../../fixtures/harness/app.cjs')

describe('spawnApp()', () => {
  it('waits until ready, stops with SIGTERM and returns the exit code and output', async () => {
    const proc = await spawnApp({ args: [app], readyPattern: /ready/ })
    expect(proc.stdout()).toContain('ready')
    const result = await proc.stop()
    expect(result.code).toBe(0)
    expect(result.signal).toBeNull()
    expect(result.stdout).toContain('draining')
  })

  it('kills an app that ignores SIGTERM once the timeout passes', async () => {
    const proc = await spawnApp({ args: [app, '--ignore-sigterm'], readyPattern: /ready/ })
    const result = await proc.stop('SIGTERM', 300)
    expect(result.signal).toBe('SIGKILL')
  })

  it('reports an app that exits before it is ready, with its output', async () => {
    await expect(
      spawnApp({ args: ['-e', 'console.error("bad config"); process.exit(1)'], readyPattern: /never/ }),
    ).rejects.toThrow(/exited \(code 1.*bad config/s)
  })
})
