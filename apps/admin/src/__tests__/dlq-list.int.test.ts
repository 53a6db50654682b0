import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { DeadLetterQueue, DeadLetterRecord } from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import type { Redis } from 'ioredis'
import { connect, openDlq, runCli, seedDlq } from './helpers'
import { ID, RECORDS } from './dlq-fixtures'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let redis: Redis
let dlq: DeadLetterQueue

const cli = (...argv: string[]) => runCli(url, prefix, argv)
const listIds = async (...argv: string[]): Promise<string[]> => {
  const run = await cli('dlq', 'list', '--json', ...argv)
  expect(run.code).toBe(0)
  return (JSON.parse(run.stdout) as { id: string }[]).map(r => r.id)
}

beforeAll(async () => {
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
})

beforeEach(async () => {
  await cleanupPrefix(url, prefix)
  await seedDlq(dlq, RECORDS)
})

afterAll(async () => {
  await dlq.close()
  await cleanupPrefix(url, prefix)
  await redis.quit()
})

describe('dlq list', () => {
  it('prints a table of every record, in dead-letter order', async () => {
    const run = await cli('dlq', 'list')
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+DEAD AT\s+REASON\s+STATUS\s+TENANT\s+TYPE\s+USER\s+ERROR\s+REPLAYS$/)
    expect(lines.slice(1, 6).map(l => l.split(/\s+/)[0])).toEqual(ID)
    expect(lines[3]).toMatch(
      new RegExp(
        `^${ID[2]}\\s+2025-06-01T11:10:00Z\\s+rejected\\s+422\\s+globex\\s+page\\s+anon-3\\s+UC_ERR_REJECTED\\s+0$`,
      ),
    )
    expect(lines[4]).toMatch(/exhausted\s+503\s+acme\s+group\s+user-4\s+UC_ERR_EXHAUSTED\s+1$/)
    expect(lines[6]).toBe('5 records.')
  })

  it('prints JSON: one object per record with its id and every field', async () => {
    const run = await cli('dlq', 'list', '--json')
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(RECORDS.map((record, i) => ({ id: ID[i], ...record })))
  })

  it.each([
    [
      ['--reason', 'forbidden'],
      [0, 1, 4],
    ],
    [
      ['--reason', 'rejected,exhausted'],
      [2, 3],
    ],
    [
      ['--reason', 'rejected', '--reason', 'exhausted'],
      [2, 3],
    ],
    [
      ['--type', 'track'],
      [0, 4],
    ],
    [
      ['--tenant', 'globex'],
      [2, 4],
    ],
    [['--user', 'anon-3'], [2]],
    [
      ['--user', 'user-4,user-5'],
      [3, 4],
    ],
    [
      ['--since', '1h'],
      [2, 3, 4],
    ],
    [
      ['--until', '1h'],
      [0, 1],
    ],
    [['--since', '1d', '--until', '1h'], [1]],
    [
      ['--since', '2025-06-01T11:00:00Z'],
      [2, 3, 4],
    ],
    [['--until', '2025-05-30'], [0]],
    [
      ['--reason', 'forbidden', '--tenant', 'acme'],
      [0, 1],
    ],
    [['--reason', 'invalid'], []],
  ])('filters %j', async (flags, expected) => {
    expect(await listIds(...flags)).toEqual(expected.map(i => ID[i]))
  })

  it('stops at --limit and says more match', async () => {
    const run = await cli('dlq', 'list', '--limit', '2')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(ID[0])
    expect(run.stdout).toContain(ID[1])
    expect(run.stdout).not.toContain(ID[2])
    expect(run.stdout).toMatch(/Showing the first 2 matching records .* more match/)
    expect(await listIds('--limit', '3', '--reason', 'forbidden')).toEqual([ID[0], ID[1], ID[4]])
  })

  it('says so when nothing matches', async () => {
    const run = await cli('dlq', 'list', '--tenant', 'nobody')
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('No dead-letter records match.\n')
  })

  it.each([
    [['--reason', 'forbiden'], /--reason: unknown "forbiden" \(one of forbidden, unauthorized/],
    [['--type', 'click'], /--type: unknown event type "click"/],
    [['--since', 'last tuesday'], /--since: "last tuesday" is neither an ISO date/],
    [['--limit', '0'], /--limit: "0" is not a positive whole number/],
    [['--limit', 'ten'], /--limit: "ten"/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('refuses a bad filter %j with exit 2 and a clear message', async (flags, message) => {
    const run = await cli('dlq', 'list', ...flags)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stdout).toBe('')
  })

  it('leaves out (and names) a job whose data is not a record', async () => {
    await dlq.add('forbidden', { not: 'a record' } as unknown as DeadLetterRecord, { jobId: 'broken-r0' })
    const run = await cli('dlq', 'list')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('5 records.')
    expect(run.stderr).toMatch(/1 job in the DLQ not matching the record schema left out .*broken-r0/)
  })
})

describe('dlq show', () => {
  it('prints the full record and its job id as pretty JSON', async () => {
    const run = await cli('dlq', 'show', ID[3]!)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('\n  "record": {\n')
    const shown = JSON.parse(run.stdout)
    expect(shown).toMatchObject({ id: ID[3], name: 'exhausted', state: 'waiting', record: RECORDS[3] })
    expect(shown.record).toEqual(RECORDS[3])
  })

  it('fails with exit 1 on an unknown id', async () => {
    const run = await cli('dlq', 'show', 'acme-nope-r0')
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /No dead-letter record has the id "acme-nope-r0"\. List the ids with: pnpm admin dlq list/,
    )
  })

  it('needs an id (exit 2)', async () => {
    const run = await cli('dlq', 'show')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/missing required argument 'id'/)
  })
})
