import { describe, expect, it } from '@jest/globals'
import { packageOf, renderProfileSummary, summarizeProfile, type CpuProfile } from '../profile'

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 })

const profile: CpuProfile = {
  startTime: 0,
  endTime: 100_000,
  nodes: [
    { id: 1, callFrame: frame('(root)', '') },
    {
      id: 2,
      callFrame: frame(
        'Command',
        'file:///app/node_modules/.pnpm/ioredis@6/node_modules/ioredis/built/Command.js',
      ),
    },
    { id: 3, callFrame: frame('enqueue', 'file:///app/apps/ingest/dist/producer.js') },
    { id: 4, callFrame: frame('(garbage collector)', '') },
  ],
  samples: [2, 2, 3, 4, 2],
  timeDeltas: [0, 20_000, 20_000, 20_000, 20_000],
}

describe('summarizeProfile', () => {
  it('adds self time up by function and by package, largest first', () => {
    const summary = summarizeProfile(profile)
    expect(summary.totalMs).toBe(100)
    // Each sample lasts until the next one; the last one has no end and counts nothing.
    expect(summary.packages.map(p => [p.name, p.selfMs])).toEqual([
      ['ioredis', 40],
      ['@ucd/ingest', 20],
      ['(native / idle / gc)', 20],
    ])
    expect(summary.functions[0]).toMatchObject({
      name: 'Command ioredis Command.js:10',
      selfMs: 40,
      share: 0.4,
    })
    expect(renderProfileSummary('ingest', summary)).toContain('40.0%       40 ms  ioredis')
  })
})

describe('packageOf', () => {
  it('names the package a script belongs to', () => {
    expect(
      packageOf('file:///x/node_modules/.pnpm/@fastify+cors@1/node_modules/@fastify/cors/index.js'),
    ).toBe('@fastify/cors')
    expect(packageOf('node:internal/http')).toBe('node')
    expect(packageOf('file:///repo/packages/segment/dist/normalize.js')).toBe('@ucd/segment')
    expect(packageOf('')).toBe('(native / idle / gc)')
  })
})
