import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  createEventsQueue,
  createRedisConnection,
  type DeadLetterQueue,
  type DeadLetterRecord,
  type EventsQueue,
} from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import { Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { connect, dlqId, dumpPrefix, makeEvent, makeRecord, NOW, openDlq, runCli, seedDlq } from './helpers'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let redis: Redis
let dlq: DeadLetterQueue
let events: EventsQueue
let dir: string

// 1..5 in the order the worker dead-lettered them.
const RECORDS: DeadLetterRecord[] = [
  makeRecord({ n: 1, tenantId: 'acme', reason: 'forbidden', type: 'track', deadMinutesAgo: 3 * 24 * 60 }),
  makeRecord({ n: 2, tenantId: 'acme', reason: 'forbidden', type: 'identify', deadMinutesAgo: 180 }),
  makeRecord({
    n: 3,
    tenantId: 'globex',
    reason: 'rejected',
    type: 'page',
    anonymousId: 'anon-3',
    deadMinutesAgo: 50,
  }),
  makeRecord({ n: 4, tenantId: 'acme', reason: 'exhausted', type: 'group', deadMinutesAgo: 30, replays: 1 }),
  makeRecord({ n: 5, tenantId: 'globex', reason: 'forbidden', type: 'track', deadMinutesAgo: 5 }),
]
const ID = RECORDS.map(dlqId)

const cli = (...argv: string[]) => runCli(url, prefix, argv)
const listIds = async (...argv: string[]): Promise<string[]> => {
  const run = await cli('dlq', 'list', '--json', ...argv)
  expect(run.code).toBe(0)
  return (JSON.parse(run.stdout) as { id: string }[]).map(r => r.id)
}
const dlqIds = async (): Promise<string[]> => (await dlq.getWaiting(0, -1)).map(j => j.id ?? '').sort()

beforeAll(async () => {
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
  events = createEventsQueue(redis, prefix)
  dir = mkdtempSync(join(tmpdir(), 'ucd-admin-'))
})

beforeEach(async () => {
  await cleanupPrefix(url, prefix)
  await seedDlq(dlq, RECORDS)
})

afterAll(async () => {
  await Promise.all([dlq.close(), events.close()])
  await cleanupPrefix(url, prefix)
  await redis.quit()
  rmSync(dir, { recursive: true, force: true })
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

describe('dlq purge', () => {
  it('without --yes says what it would delete, changes nothing and exits 2', async () => {
    const before = await dumpPrefix(redis, prefix)
    const run = await cli('dlq', 'purge', '--reason', 'forbidden')
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('Would purge 3 dead-letter records (forbidden 3). Nothing was deleted.\n')
    expect(run.stderr).toMatch(/add --yes to confirm/)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)
  })

  it('refuses without a selector, even with --yes', async () => {
    const before = await dumpPrefix(redis, prefix)
    const run = await cli('dlq', 'purge', '--yes')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/say which records to purge/)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)
  })

  it('deletes the selected records with --yes', async () => {
    const run = await cli('dlq', 'purge', '--reason', 'forbidden', '--tenant', 'acme', '--yes')
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('Purged 2 dead-letter records (forbidden 2).\n')
    expect(await dlqIds()).toEqual([ID[2], ID[3], ID[4]].sort())
    expect(await redis.exists(dlq.toKey(ID[0]!))).toBe(0)
  })

  it('deletes by --older-than, by ids and --all', async () => {
    expect((await cli('dlq', 'purge', '--older-than', '1h', '--yes')).code).toBe(0)
    expect(await dlqIds()).toEqual([ID[2], ID[3], ID[4]].sort())
    expect((await cli('dlq', 'purge', ID[3]!, '--yes')).code).toBe(0)
    expect(await dlqIds()).toEqual([ID[2], ID[4]].sort())
    const all = await cli('dlq', 'purge', '--all', '--yes', '--json')
    expect(JSON.parse(all.stdout)).toEqual({ purged: 2, byReason: { rejected: 1, forbidden: 1 } })
    expect(await dlqIds()).toEqual([])
  })

  it('prints progress on stderr while purging many records', async () => {
    await seedDlq(
      dlq,
      Array.from({ length: 250 }, (_, i) => makeRecord({ n: 100 + i, reason: 'invalid' })),
    )
    const run = await runCli(url, prefix, ['dlq', 'purge', '--reason', 'invalid', '--yes'], {
      progressIntervalMs: 0,
    })
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('purge: 100/250 deleted\npurge: 200/250 deleted\n')
    expect(run.stdout).toBe('Purged 250 dead-letter records (invalid 250).\n')
    expect(await dlqIds()).toEqual([...ID].sort())
  })

  it('purges records that are not valid DLQ records when named by id or by a bare --all, not by filters', async () => {
    await dlq.add('forbidden', { garbage: true } as never, { jobId: 'acme-garbage-r0' })
    await dlq.add('forbidden', { garbage: 2 } as never, { jobId: 'acme-garbage-r1' })
    expect((await cli('dlq', 'purge', '--reason', 'forbidden', '--yes')).stdout).toBe(
      'Purged 3 dead-letter records (forbidden 3).\n',
    )
    const left = ID.filter((_, i) => RECORDS[i]!.reason !== 'forbidden')
    expect(await dlqIds()).toEqual(['acme-garbage-r0', 'acme-garbage-r1', ...left].sort())
    const byId = await cli('dlq', 'purge', 'acme-garbage-r0', '--yes')
    expect(byId.stdout).toBe('Purged 1 dead-letter record (unreadable 1).\n')
    const all = await cli('dlq', 'purge', '--all', '--yes', '--json')
    expect(JSON.parse(all.stdout)).toMatchObject({ purged: left.length + 1, byReason: { unreadable: 1 } })
    expect(await dlqIds()).toEqual([])
  })

  it('refuses an unknown id before deleting anything', async () => {
    const before = await dumpPrefix(redis, prefix)
    const run = await cli('dlq', 'purge', ID[0]!, 'acme-nope-r0', '--yes')
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/"acme-nope-r0"/)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)
  })
})

describe('dlq export and import', () => {
  it('exports NDJSON lines of { id, record } to stdout', async () => {
    const run = await cli('dlq', 'export', '--reason', 'forbidden')
    expect(run.code).toBe(0)
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map(l => JSON.parse(l))
    expect(lines).toEqual([0, 1, 4].map(i => ({ id: ID[i], record: RECORDS[i] })))
    expect(run.stderr).toBe('Exported 3 records.\n')
  })

  it('export -> purge -> import gives back identical records under the same ids', async () => {
    const file = join(dir, 'roundtrip.ndjson')
    const before = await dlq.getWaiting(0, -1)
    const exported = await cli('dlq', 'export', '--out', file)
    expect(exported.code).toBe(0)
    expect(exported.stderr).toBe(`Exported 5 records to ${file}.\n`)
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(5)

    expect((await cli('dlq', 'purge', '--all', '--yes')).code).toBe(0)
    expect(await dlqIds()).toEqual([])

    const imported = await cli('dlq', 'import', file)
    expect(imported.code).toBe(0)
    expect(imported.stdout).toBe(`Imported 5 records from ${file}.\n`)
    const after = await dlq.getWaiting(0, -1)
    const byId = (jobs: typeof before) =>
      Object.fromEntries(jobs.map(j => [j.id, { name: j.name, data: j.data }]))
    expect(byId(after)).toEqual(byId(before))
    expect(JSON.parse((await cli('dlq', 'list', '--json')).stdout)).toEqual(
      RECORDS.map((record, i) => ({ id: ID[i], ...record })),
    )

    // Importing the same file again changes nothing.
    const dump = await dumpPrefix(redis, prefix)
    const again = await cli('dlq', 'import', file)
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/Imported 0 records .*; 5 ids already in the DLQ left as they are/)
    expect(await dumpPrefix(redis, prefix)).toEqual(dump)
  })

  it('reports every bad line with its number and imports nothing', async () => {
    await cli('dlq', 'purge', '--all', '--yes')
    const good = (i: number) => JSON.stringify({ id: ID[i], record: RECORDS[i] })
    const { reason: _reason, ...noReason } = RECORDS[1]!
    const file = join(dir, 'bad.ndjson')
    writeFileSync(
      file,
      [
        good(0),
        '{"id": "x-r0", "record": ',
        JSON.stringify({ id: ID[1], record: noReason }),
        JSON.stringify({ id: ID[2], record: { ...RECORDS[2], reason: 'nope', deadAt: 'yesterday' } }),
        '',
        good(0),
        JSON.stringify({ id: '12', record: RECORDS[3] }),
        JSON.stringify([1, 2]),
        good(4),
      ].join('\n') + '\n',
    )
    const before = await dumpPrefix(redis, prefix)
    const run = await cli('dlq', 'import', file)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`error: ${file}: 6 bad lines; nothing was imported:`)
    expect(run.stderr).toMatch(/line 2: not JSON/)
    expect(run.stderr).toMatch(/line 3: record\.reason: /)
    expect(run.stderr).toMatch(/line 4: record\.reason: .*record\.deadAt: /)
    expect(run.stderr).toMatch(new RegExp(`line 6: id "${ID[0]}" is already on line 1`))
    expect(run.stderr).toMatch(/line 7: id: a dead-letter id ends in -r<replays>/)
    expect(run.stderr).toMatch(/line 8: /)
    expect(run.stderr).not.toMatch(/line (1|5|9):/)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)
    expect(await dlqIds()).toEqual([])
  })

  it('--dry-run validates and changes nothing; a missing file is a clear failure', async () => {
    const file = join(dir, 'dry.ndjson')
    writeFileSync(
      file,
      RECORDS.map((record, i) =>
        JSON.stringify({ id: `${ID[i]}`.replace(/-r(\d+)$/, '-copy-r$1'), record }),
      ).join('\n'),
    )
    const before = await dumpPrefix(redis, prefix)
    const run = await cli('dlq', 'import', file, '--dry-run')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Dry run: .* is valid; would import 5 records\. Nothing was changed\./)
    expect(await dumpPrefix(redis, prefix)).toEqual(before)

    const missing = await cli('dlq', 'import', join(dir, 'nope.ndjson'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/cannot read .*nope\.ndjson \(ENOENT\)/)
  })

  it('an export to an unwritable place fails with exit 1 and leaves nothing behind', async () => {
    const run = await cli('dlq', 'export', '--out', join(dir, 'no-such-dir', 'x.ndjson'))
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/cannot write .*x\.ndjson \(ENOENT\)/)
  })
})

describe('stats', () => {
  it('counts per queue and state, DLQ by reason and tenant, oldest waiting, workers, paused, rate limit', async () => {
    for (let n = 10; n < 13; n += 1) {
      await events.add('track', {
        tenantId: 'acme',
        event: makeEvent({ n }) as never,
        receivedAt: NOW.toISOString(),
      })
    }
    await events.add(
      'track',
      { tenantId: 'acme', event: makeEvent({ n: 13 }) as never, receivedAt: NOW.toISOString() },
      { delay: 60_000 },
    )
    await events.add(
      'track',
      { tenantId: 'acme', event: makeEvent({ n: 14 }) as never, receivedAt: NOW.toISOString() },
      { priority: 5 },
    )

    const run = await cli('stats', '--json')
    expect(run.code).toBe(0)
    const stats = JSON.parse(run.stdout)
    expect(stats.prefix).toBe(prefix)
    expect(stats.events.counts).toEqual({
      waiting: 3,
      active: 0,
      delayed: 1,
      prioritized: 1,
      failed: 0,
      paused: 0,
    })
    expect(stats.events.workers).toBe(0)
    expect(stats.events.paused).toBe(false)
    expect(stats.events.rateLimited).toBe(false)
    expect(stats.events.oldestWaitingAt).not.toBeNull()
    expect(typeof stats.events.oldestWaitingAgeMs).toBe('number')
    expect(stats.deadLetter.total).toBe(5)
    expect(stats.deadLetter.counts.waiting).toBe(5)
    expect(stats.deadLetter.byReason).toEqual({ forbidden: 3, exhausted: 1, rejected: 1 })
    expect(stats.deadLetter.byTenant).toEqual({ acme: 3, globex: 2 })
    expect(stats.deadLetter.oldestDeadAt).toBe(RECORDS[0]!.deadAt)

    const table = await cli('stats')
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^events\nSTATE\s+JOBS\nwaiting\s+3\n/m)
    expect(table.stdout).toMatch(/workers connected: 0/)
    expect(table.stdout).toMatch(/dead-letter: 5 records/)
    expect(table.stdout).toMatch(/REASON\s+RECORDS\nforbidden\s+3\nexhausted\s+1\nrejected\s+1/)
    expect(table.stdout).toMatch(/TENANT\s+RECORDS\nacme\s+3\nglobex\s+2/)
  })

  it('sees a paused, rate-limited queue and connected workers', async () => {
    await events.add('track', {
      tenantId: 'acme',
      event: makeEvent({ n: 20 }) as never,
      receivedAt: NOW.toISOString(),
    })
    await events.pause()
    await events.rateLimit(60_000)
    const workerConnection = createRedisConnection(url, 'worker')
    const worker = new Worker('events', async () => undefined, {
      connection: workerConnection,
      prefix,
      autorun: false,
    })
    try {
      await worker.waitUntilReady()
      const stats = JSON.parse((await cli('stats', '--json')).stdout)
      expect(stats.events.paused).toBe(true)
      expect(stats.events.counts.paused).toBe(1)
      expect(stats.events.counts.waiting).toBe(0)
      expect(stats.events.rateLimited).toBe(true)
      expect(stats.events.rateLimitTtlMs).toBeGreaterThan(0)
      expect(stats.events.workers).toBeGreaterThanOrEqual(1)
      const table = (await cli('stats')).stdout
      expect(table).toMatch(/paused: yes/)
      expect(table).toMatch(/rate limited: yes, .* left/)
    } finally {
      await worker.close()
      await workerConnection.quit()
      await events.resume()
    }
  })
})
