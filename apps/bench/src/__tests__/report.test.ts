import { describe, expect, it } from '@jest/globals'
import { renderMarkdownReport, renderReport } from '../report'
import { checkTargets } from '../targets'
import { results } from './fixtures'

describe('renderReport', () => {
  const r = results()
  r.targets = checkTargets(r)
  const text = renderReport(r)

  it('heads the report with the machine, the versions and the load', () => {
    expect(text).toContain('2 cores (Test CPU)')
    expect(text).toContain('bullmq 6.7.0, ioredis 6.0.0, fastify 5.12.8')
    expect(text).toContain('redis-server 7.0.15')
    expect(text).toContain('hash-max-listpack-value 4096')
    expect(text).toContain('load average: start 0.50/0.40/0.30 (1/5/15 min)')
  })

  it('prints the ingest ratios against bare addBulk and bare Fastify', () => {
    const line = text.split('\n').find(l => l.startsWith('/v1/batch ingest'))
    expect(line).toMatch(/9,000\s+90\s+12\s+40\s+100\s+50\s+60%\s+10%$/)
  })

  it('prints the linger section: closed and open loop next to the ceilings, and its targets', () => {
    expect(text).toContain('Linger (issue 20): /v1/track at 100 connections, /v1/batch')
    expect(text).toMatch(/^\/v1\/track linger 1 ms, closed loop\s+5,400\s+18\s+35\s+100\s+50\s+63%$/m)
    expect(text).toMatch(/^addBulk\(1\) ceiling, 100 loops\s+8,600\s+50\s+90\s+60\s+40\s+100%$/m)
    expect(text).toMatch(
      /^\/v1\/track linger 1 ms, open loop at 5,160\/s\s+5,150\s+3\.0\s+8\.0\s+100\s+50\s+60%$/m,
    )
    expect(text).toMatch(/^\/v1\/batch \(100 events\), linger 1 ms\s+16,000\s+12\s+40\s+100\s+50\s+59%$/m)
    expect(text).toContain("by Little's law")
    expect(text).toMatch(
      /\/v1\/track events\/s \(linger on, 100 connections\) vs addBulk\(1\) ceiling\s+63%\s+>= 60%\s+PASS/,
    )
    expect(text).toMatch(
      /\/v1\/track p99, open loop at 60% of the addBulk\(1\) ceiling \(linger on\)\s+8(\.0)? ms\s+<= 20(\.0)? ms\s+PASS/,
    )
    expect(text).toMatch(
      /\/v1\/track p99, closed loop at saturation .*\s+35(\.0)? ms\s+<= 20(\.0)? ms\s+MISS/,
    )
  })

  it('labels the linger runs with the INGEST_LINGER_MS they ran with (1 ms in results older than the field)', () => {
    const withField = results()
    withField.linger!.lingerOnMs = 2
    const rendered = renderReport(withField)
    expect(rendered).toMatch(/^\/v1\/track linger 2 ms, closed loop\s+5,400/m)
    expect(rendered).toMatch(/^\/v1\/track linger 2 ms, open loop at 5,160\/s/m)
    expect(rendered).not.toContain('linger 1 ms')
  })

  it('prints the worker ratios and, with latency, the ideal', () => {
    const lines = text.split('\n')
    expect(lines.find(l => /^0 ms\s+50\s/.test(l))).toMatch(/900\s+1,000\s+90%\s+-\s+-\s+-/)
    expect(lines.find(l => /^50 ms\s+200\s/.test(l))).toMatch(/1,100\s+1,300\s+85%\s+4,000\s+28%\s+33%/)
  })

  it('prints scale-out, memory and every target with its result', () => {
    expect(text).toMatch(/^2\s+1,400\s+2,000\s+70%\s+2\.00x/m)
    expect(text).toMatch(/^waiting event\s+20,000/m)
    expect(text).toMatch(/Redis bytes per dedupe marker\s+125 B\s+<= 150 B\s+PASS/)
    expect(text).toMatch(/worker vs latency-bound ideal, 50 ms, concurrency 200\s+28%\s+>= 80%\s+MISS/)
  })

  it('prints the fuzz section: the worst case of each function and the 5 ms targets', () => {
    expect(text).toContain(
      'Fuzz: hostile strings, in process (1540 events up to 32.0 KB, median CPU time of 15 calls each)',
    )
    expect(text).toMatch(
      /^worst planEvent\s+digits \+ ! in identify float attribute\s+32,000\s+31\.9 KB\s+0\.05\s+1\.8$/m,
    )
    expect(text).toMatch(
      /planEvent worst ms per hostile event \(fuzz, up to 32 KB\)\s+1\.8 ms\s+<= 5\.0 ms\s+PASS/,
    )
  })

  it('says when no redis-server ran (--only fuzz)', () => {
    const fuzzOnly = results()
    delete fuzzOnly.redis
    expect(renderReport(fuzzOnly)).toContain('no redis-server (only in-process sections ran)')
  })

  it('renders the same tables as markdown', () => {
    const md = renderMarkdownReport(r)
    expect(md).toContain('| run | events/s | req/s |')
    expect(md).toContain('| Redis bytes per dedupe marker | 125 B | <= 150 B | PASS |')
  })
})
