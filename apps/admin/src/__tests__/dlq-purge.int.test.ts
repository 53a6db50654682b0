import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { DeadLetterQueue } from '@ucd/queue'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '@ucd/testing'
import type { Redis } from 'ioredis'
import { connect, dumpPrefix, makeRecord, openDlq, runCli, seedDlq, waitingIds } from './helpers'
import { ID, RECORDS } from './dlq-fixtures'

const url = testRedisUrl()
const prefix = uniquePrefix(__filename)
let redis: Redis
let dlq: DeadLetterQueue
let dir: string

const cli = (...argv: string[]) => runCli(url, prefix, argv)
const dlqIds = (): Promise<string[]> => waitingIds(dlq)

beforeAll(async () => {
  redis = await connect(url)
  dlq = openDlq(redis, prefix)
  dir = mkdtempSync(join(tmpdir(), 'ucd-admin-'))
})

beforeEach(async () => {
  await cleanupPrefix(url, prefix)
  await seedDlq(dlq, RECORDS)
})

afterAll(async () => {
  await dlq.close()
  await cleanupPrefix(url, prefix)
  await redis.quit()
  rmSync(dir, { recursive: true, force: true })
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
