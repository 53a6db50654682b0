import { rename, rm } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { Command, CommanderError } from 'commander'
import {
  AdminError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  FileError,
  ImportFileError,
  UnknownIdError,
  UsageError,
} from './errors'
import {
  buildFilter,
  collectList,
  eventUser,
  isEmptyFilter,
  parsePositiveInt,
  parsePositiveNumber,
  type DlqFilter,
  type FilterFlags,
} from './filters'
import { formatAge, formatTable, plural, shortTime, writeOut, type Output } from './output'
import { runReplay, type ItemResult, type ReplaySummary } from './replay'
import { collectStats, type QueueStats } from './stats'
import {
  openQueues,
  selectEntries,
  toEntry,
  type AdminQueues,
  type DlqEntry,
  type RedisTarget,
} from './store'
import { exportRecords, importRecords, parseImportFile } from './transfer'

export interface CliOptions {
  /** Where the queues are: `Config` from @ucd/config (only redisUrl and queuePrefix are used). */
  config: RedisTarget
  stdout: Output
  stderr: Output
  /** The clock for relative filters and replay timestamps. */
  now?: () => Date
  /** Waits between replays (`--rate`); resolves early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Aborting it stops a replay between two records (main.ts wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal
  /** How often a long replay prints a progress line to stderr (default 1000 ms). */
  progressIntervalMs?: number
  /** How long to wait for Redis before failing (default 3000 ms). */
  connectTimeoutMs?: number
}

export interface Cli {
  /** Runs one command line (without `node main.js`) and resolves to its exit code: 0 ok, 1 failure, 2 usage. */
  run(argv: readonly string[]): Promise<number>
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise(resolve => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

const LIST_LIMIT = 100
const PURGE_CHUNK = 100
const MAX_PROBLEMS_SHOWN = 50

const FILTER_HELP = `
Filters (combine freely; every one given must match; a flag may repeat or take a comma list):
  --reason     forbidden | unauthorized | rejected | exhausted | invalid
  --type       identify | track | page | screen | group | alias
  --tenant     tenant id (single-tenant setups use "default")
  --user       userId or anonymousId
  --since      dead at or after: ISO date (2024-05-01, 2024-05-01T12:00:00Z) or a time ago (30m, 2h, 7d)
  --until      dead before: same forms`

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map(l => `  $ ${l}`).join('\n')}\n`

interface Context {
  readonly opts: CliOptions
  readonly now: () => Date
  queues(): Promise<AdminQueues>
  exitCode: number
}

interface ListFlags extends FilterFlags {
  limit?: string
  json?: boolean
}
interface ReplayFlags extends FilterFlags {
  all?: boolean
  limit?: string
  dryRun?: boolean
  rate?: string
  json?: boolean
}
interface PurgeFlags extends FilterFlags {
  all?: boolean
  yes?: boolean
  json?: boolean
}
interface ExportFlags extends FilterFlags {
  out?: string
}

function addFilterOptions(command: Command, options: { olderThan?: boolean } = {}): Command {
  command
    .option('--reason <reasons>', 'dead-letter reason(s)', collectList)
    .option('--type <types>', 'event type(s)', collectList)
    .option('--tenant <ids>', 'tenant id(s)', collectList)
    .option('--user <ids>', 'userId or anonymousId', collectList)
    .option('--since <time>', 'dead at or after (ISO date or time ago: 30m, 2h, 7d)')
    .option('--until <time>', 'dead before (ISO date or time ago)')
  if (options.olderThan)
    command.option('--older-than <duration>', 'dead longer ago than this (30m, 2h, 7d, 1w)')
  return command
}

function summaryText(summary: ReplaySummary): string {
  const lines: string[] = []
  const selected = plural(summary.selected, 'record')
  if (summary.dryRun) {
    lines.push(
      `Dry run: ${selected} selected; would replay ${summary.replayed}, already queued ${summary.alreadyQueued}, ` +
        `would skip ${summary.skipped}, failed to check ${summary.failed}. Nothing was changed.`,
    )
  } else {
    lines.push(
      `Replay ${summary.interrupted ? 'interrupted' : 'done'}: ${selected} selected; replayed ${summary.replayed}, ` +
        `already queued ${summary.alreadyQueued}, failed ${summary.failed}, skipped ${summary.skipped}.`,
    )
  }
  if (summary.stoppedBecause && !summary.interrupted) lines.push(`Stopped early: ${summary.stoppedBecause}.`)
  if (summary.interrupted) {
    const left =
      summary.selected - summary.replayed - summary.alreadyQueued - summary.failed - summary.skipped
    lines.push(
      `${plural(left, 'record')} not reached are still in the DLQ; run the same command again to go on.`,
    )
  }
  const list = (title: string, items: { id: string; text: string }[]): void => {
    if (items.length === 0) return
    lines.push(`${title}:`)
    for (const item of items.slice(0, MAX_PROBLEMS_SHOWN)) lines.push(`  ${item.id}: ${item.text}`)
    if (items.length > MAX_PROBLEMS_SHOWN)
      lines.push(`  ... and ${items.length - MAX_PROBLEMS_SHOWN} more (--json lists all)`)
  }
  list(
    'Skipped',
    summary.skips.map(s => ({ id: s.id, text: s.why })),
  )
  list(
    'Failed (still in the DLQ)',
    summary.failures.map(f => ({ id: f.id, text: f.error })),
  )
  return lines.join('\n') + '\n'
}

function statsText(stats: QueueStats): string {
  const e = stats.events
  const d = stats.deadLetter
  const countRows = (counts: Record<string, number>): string[][] =>
    Object.entries(counts).map(([state, n]) => [state, String(n)])
  const out: string[] = []
  out.push(`Queues under prefix "${stats.prefix}"`, '')
  out.push(`events`)
  out.push(formatTable(['STATE', 'JOBS'], countRows(e.counts)).trimEnd())
  out.push(
    `oldest waiting: ${e.oldestWaitingAgeMs === null ? 'none waiting' : `${formatAge(e.oldestWaitingAgeMs)} ago (${shortTime(e.oldestWaitingAt ?? '')})`}`,
  )
  out.push(`workers connected: ${e.workers}`)
  out.push(`paused: ${e.paused ? 'yes' : 'no'}`)
  out.push(
    `rate limited: ${e.rateLimited ? `yes, ${formatAge(e.rateLimitTtlMs)} left (User.com answered 429)` : 'no'}`,
  )
  out.push('', `dead-letter: ${plural(d.total, 'record')}`)
  out.push(formatTable(['STATE', 'JOBS'], countRows(d.counts)).trimEnd())
  if (d.oldestDeadAt) out.push(`oldest dead at: ${shortTime(d.oldestDeadAt)}`)
  if (d.total > 0) {
    out.push('', formatTable(['REASON', 'RECORDS'], countRows(d.byReason)).trimEnd())
    out.push('', formatTable(['TENANT', 'RECORDS'], countRows(d.byTenant)).trimEnd())
  }
  if (d.invalid > 0) out.push('', `${plural(d.invalid, 'job')} in the DLQ not matching the record schema`)
  return out.join('\n') + '\n'
}

const LIST_HEADERS = ['ID', 'DEAD AT', 'REASON', 'STATUS', 'TENANT', 'TYPE', 'USER', 'ERROR', 'REPLAYS']

function listRow(entry: DlqEntry & { record: NonNullable<DlqEntry['record']> }): string[] {
  const r = entry.record
  return [
    entry.id,
    shortTime(r.deadAt),
    r.reason,
    r.status === undefined ? '-' : String(r.status),
    r.tenantId,
    typeof r.event.type === 'string' ? r.event.type : '-',
    eventUser(r) ?? '-',
    r.error.code,
    String(r.replays),
  ]
}

function dryRunRow(item: ItemResult): string[] {
  const r = item.record
  const action =
    item.outcome === 'replayed'
      ? `replay -> events job ${item.eventsJobId ?? ''}`
      : item.outcome === 'already-queued'
        ? `already queued (${item.detail ?? ''})`
        : `skip: ${item.detail ?? ''}`
  return [
    item.id,
    r?.reason ?? '-',
    r?.tenantId ?? '-',
    typeof r?.event.type === 'string' ? r.event.type : '-',
    (r && eventUser(r)) ?? '-',
    r ? String(r.replays) : '-',
    action,
  ]
}

function createProgram(ctx: Context): Command {
  const { stdout, stderr } = ctx.opts
  const out = (text: string): Promise<void> => writeOut(stdout, text)
  const err = (text: string): Promise<void> => writeOut(stderr, text)

  const program = new Command('pnpm admin')
  program
    .description(
      'Operator CLI for usercom-destination: inspect, replay, purge, export and import the dead-letter queue (DLQ), and queue stats.\n' +
        'Reads REDIS_URL and QUEUE_PREFIX like the other apps.',
    )
    .configureOutput({
      writeOut: text => void stdout.write(text),
      writeErr: text => void stderr.write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .allowExcessArguments(false)
  program.addHelpText(
    'after',
    examples(
      'pnpm admin stats',
      'pnpm admin dlq list --reason forbidden',
      'pnpm admin dlq replay --reason forbidden --dry-run',
      'pnpm admin dlq replay --reason forbidden --rate 20',
      'pnpm admin dlq purge --older-than 30d --yes',
    ) +
      '\nExit codes: 0 ok, 1 failure (Redis unreachable, unknown id, failed replays, bad import file), 2 usage.\n',
  )

  const filterOf = (flags: FilterFlags): DlqFilter => buildFilter(flags, ctx.now())

  // ---- stats ----
  program
    .command('stats')
    .description(
      'Jobs per queue and state, DLQ by reason and tenant, oldest waiting event, workers, paused / rate limited',
    )
    .option('--json', 'print JSON')
    .addHelpText('after', examples('pnpm admin stats', 'pnpm admin stats --json | jq .deadLetter.byReason'))
    .action(async (flags: { json?: boolean }) => {
      const stats = await collectStats(await ctx.queues(), ctx.now())
      await out(flags.json ? `${JSON.stringify(stats, null, 2)}\n` : statsText(stats))
    })

  const dlq = program
    .command('dlq')
    .description('Dead-letter queue: list, show, replay, purge, export, import')
    .addHelpText(
      'after',
      examples(
        'pnpm admin dlq list --reason forbidden',
        'pnpm admin dlq show <id>',
        'pnpm admin dlq replay --reason forbidden --dry-run',
        'pnpm admin dlq export --out dlq.ndjson',
      ),
    )

  // ---- dlq list ----
  addFilterOptions(
    dlq.command('list').description('List dead-letter records, oldest first, as a table or JSON'),
  )
    .option('--limit <n>', `show at most n records (default ${LIST_LIMIT})`)
    .option('--json', 'print a JSON array of { id, ...record }')
    .addHelpText(
      'after',
      FILTER_HELP +
        '\n' +
        examples(
          'pnpm admin dlq list',
          'pnpm admin dlq list --reason forbidden --tenant acme --since 2h',
          'pnpm admin dlq list --type track,identify --user user-42 --limit 20',
          'pnpm admin dlq list --since 2024-05-01 --until 2024-05-02 --json',
        ),
    )
    .action(async (flags: ListFlags) => {
      const filter = filterOf(flags)
      const limit = flags.limit === undefined ? LIST_LIMIT : parsePositiveInt('--limit', flags.limit)
      const queues = await ctx.queues()
      const invalid: string[] = []
      const rows: string[][] = []
      let shown = 0
      let more = false
      if (flags.json) await out('[')
      for await (const entry of selectEntries(
        queues.deadLetter,
        { filter, limit: limit + 1 },
        { onInvalid: bad => invalid.push(bad.id) },
      )) {
        if (shown === limit) {
          more = true
          break
        }
        shown += 1
        if (flags.json)
          await out(`${shown === 1 ? '\n' : ',\n'}${JSON.stringify({ id: entry.id, ...entry.record })}`)
        else rows.push(listRow(entry))
      }
      if (flags.json) await out(shown === 0 ? ']\n' : '\n]\n')
      else if (shown === 0) await out('No dead-letter records match.\n')
      else await out(formatTable(LIST_HEADERS, rows))
      if (!flags.json && shown > 0) {
        await out(
          more
            ? `Showing the first ${shown} matching records (oldest first); more match: raise --limit or narrow the filters.\n`
            : `${plural(shown, 'record')}.\n`,
        )
      } else if (flags.json && more) {
        await err(`note: more records match than --limit ${limit}; raise --limit or narrow the filters.\n`)
      }
      if (invalid.length > 0) {
        await err(
          `note: ${plural(invalid.length, 'job')} in the DLQ not matching the record schema left out ` +
            `(see dlq show): ${invalid.slice(0, 10).join(', ')}${invalid.length > 10 ? ', ...' : ''}\n`,
        )
      }
    })

  // ---- dlq show ----
  dlq
    .command('show')
    .description('Show one dead-letter record in full (pretty JSON)')
    .argument('<id>', 'dead-letter job id (from dlq list)')
    .addHelpText('after', examples('pnpm admin dlq show default-Qm9vYmFyYmF6cXV4cXV1eA-r0'))
    .action(async (id: string) => {
      const queues = await ctx.queues()
      const job = await queues.deadLetter.getJob(id)
      if (!job) throw new UnknownIdError([id])
      const entry = toEntry(job)
      const state = await job.getState()
      const shown = {
        id,
        name: job.name,
        state,
        addedAt: new Date(job.timestamp).toISOString(),
        ...(entry.problem ? { problem: entry.problem } : {}),
        record: job.data,
      }
      await out(`${JSON.stringify(shown, null, 2)}\n`)
    })

  // ---- dlq replay ----
  addFilterOptions(
    dlq
      .command('replay')
      .description(
        'Put dead-letter records back on the events queue (same job id and messageId, attempts reset, replay count raised)',
      )
      .argument('[ids...]', 'dead-letter job ids'),
  )
    .option('--all', 'every record in the DLQ')
    .option('--limit <n>', 'replay at most n records')
    .option('--dry-run', 'print what would be replayed; change nothing')
    .option('--rate <n>', 'at most n events per second')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      FILTER_HELP +
        '\n\nSay which records: ids, filters, or --all (refused with none).\n' +
        'A record is removed from the DLQ only after its event is back in the events queue. If the event is\n' +
        'already queued (waiting, active, delayed) it counts as "already queued" and the record is removed.\n' +
        'Ctrl-C stops between two records; run the same command again to go on.\n' +
        examples(
          'pnpm admin dlq replay --reason forbidden --dry-run',
          'pnpm admin dlq replay --reason forbidden',
          'pnpm admin dlq replay --tenant acme --since 1d --rate 20',
          'pnpm admin dlq replay default-Qm9vYmFyYmF6cXV4cXV1eA-r0 default-cXV1eGNvcmdlZ3JhdWx0-r1',
          'pnpm admin dlq replay --all --rate 50',
        ),
    )
    .action(async (ids: string[], flags: ReplayFlags) => {
      const filter = filterOf(flags)
      const limit = flags.limit === undefined ? undefined : parsePositiveInt('--limit', flags.limit)
      const rate = flags.rate === undefined ? undefined : parsePositiveNumber('--rate', flags.rate)
      if (flags.all && ids.length > 0) throw new UsageError('give ids or --all, not both')
      if (ids.length === 0 && isEmptyFilter(filter) && !flags.all) {
        throw new UsageError(
          'say which records to replay: ids, filters (--reason, --type, --tenant, --user, --since, --until), or --all',
        )
      }
      const queues = await ctx.queues()
      const items: ItemResult[] = []
      const summary = await runReplay(queues, {
        selection: { ids: ids.length > 0 ? ids : undefined, filter, limit },
        countInvalid: isEmptyFilter(filter),
        dryRun: flags.dryRun === true,
        rate,
        now: ctx.now,
        sleep: ctx.opts.sleep ?? defaultSleep,
        signal: ctx.opts.signal,
        progressIntervalMs: ctx.opts.progressIntervalMs ?? 1000,
        onProgress: line => void stderr.write(`${line}\n`),
        onItem: flags.dryRun ? item => items.push(item) : undefined,
      })
      if (flags.json) {
        const body = flags.dryRun
          ? {
              ...summary,
              items: items.map(i => ({
                id: i.id,
                outcome: i.outcome,
                eventsJobId: i.eventsJobId,
                detail: i.detail,
              })),
            }
          : summary
        await out(`${JSON.stringify(body, null, 2)}\n`)
      } else {
        if (flags.dryRun && items.length > 0) {
          await out(
            formatTable(['ID', 'REASON', 'TENANT', 'TYPE', 'USER', 'REPLAYS', 'WOULD'], items.map(dryRunRow)),
          )
        }
        await out(summaryText(summary))
      }
      if (summary.failed > 0 || summary.interrupted || summary.stoppedBecause) ctx.exitCode = EXIT_FAILURE
    })

  // ---- dlq purge ----
  addFilterOptions(
    dlq
      .command('purge')
      .description('Delete dead-letter records for good (asks for --yes)')
      .argument('[ids...]', 'dead-letter job ids'),
    { olderThan: true },
  )
    .option('--all', 'every record in the DLQ')
    .option('--yes', 'really delete (without it: say what would be deleted, change nothing, exit 2)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      FILTER_HELP +
        '\n  --older-than dead longer ago than this duration (30m, 2h, 7d, 1w)\n' +
        '\nSay which records: ids, filters, --older-than, or --all. Export first if you may need them again.\n' +
        examples(
          'pnpm admin dlq purge --older-than 30d            # says how many, deletes nothing',
          'pnpm admin dlq purge --older-than 30d --yes',
          'pnpm admin dlq purge --reason invalid --tenant acme --yes',
          'pnpm admin dlq export --out before-purge.ndjson && pnpm admin dlq purge --all --yes',
        ),
    )
    .action(async (ids: string[], flags: PurgeFlags) => {
      const filter = filterOf(flags)
      if (flags.all && ids.length > 0) throw new UsageError('give ids or --all, not both')
      if (ids.length === 0 && isEmptyFilter(filter) && !flags.all) {
        throw new UsageError(
          'say which records to purge: ids, filters (--reason, --type, --tenant, --user, --since, --until, --older-than), or --all',
        )
      }
      const queues = await ctx.queues()
      const selected: string[] = []
      const byReason: Record<string, number> = {}
      // Records that are not valid DLQ records match no filter, but ids or a bare --all name them.
      const takeUnreadable = ids.length > 0 || isEmptyFilter(filter)
      for await (const entry of selectEntries(
        queues.deadLetter,
        { ids: ids.length > 0 ? ids : undefined, filter },
        {
          onInvalid: invalid => {
            if (!takeUnreadable) return
            selected.push(invalid.id)
            byReason.unreadable = (byReason.unreadable ?? 0) + 1
          },
        },
      )) {
        selected.push(entry.id)
        byReason[entry.record.reason] = (byReason[entry.record.reason] ?? 0) + 1
      }
      const breakdown = Object.entries(byReason)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(', ')
      if (!flags.yes) {
        if (flags.json)
          await out(`${JSON.stringify({ purged: 0, wouldPurge: selected.length, byReason }, null, 2)}\n`)
        else {
          await out(
            `Would purge ${plural(selected.length, 'dead-letter record')}${breakdown ? ` (${breakdown})` : ''}. Nothing was deleted.\n`,
          )
        }
        throw new UsageError(
          'purge deletes records for good: add --yes to confirm (export them first to keep a copy)',
        )
      }
      let purged = 0
      const started = Date.now()
      let lastProgress = started
      const progressMs = ctx.opts.progressIntervalMs ?? 1000
      // Newest first: BullMQ removes a job with LREM from the head of the wait list, where the newest
      // are, so each removal finds its job at once (oldest first, every LREM scanned the whole list).
      selected.reverse()
      for (let i = 0; i < selected.length; i += PURGE_CHUNK) {
        const results = await Promise.all(
          selected.slice(i, i + PURGE_CHUNK).map(id => queues.deadLetter.remove(id)),
        )
        purged += results.filter(r => r === 1).length
        if (Date.now() - lastProgress >= progressMs && i + PURGE_CHUNK < selected.length) {
          lastProgress = Date.now()
          await err(`purge: ${purged}/${selected.length} deleted\n`)
        }
      }
      if (flags.json) await out(`${JSON.stringify({ purged, byReason }, null, 2)}\n`)
      else await out(`Purged ${plural(purged, 'dead-letter record')}${breakdown ? ` (${breakdown})` : ''}.\n`)
      if (purged !== selected.length) {
        await err(`${selected.length - purged} could not be deleted (locked by a worker?)\n`)
        ctx.exitCode = EXIT_FAILURE
      }
    })

  // ---- dlq export ----
  addFilterOptions(
    dlq.command('export').description('Write dead-letter records as NDJSON (one {"id","record"} per line)'),
    { olderThan: true },
  )
    .option('--out <file>', 'write to this file (default: stdout)')
    .addHelpText(
      'after',
      FILTER_HELP +
        '\n  --older-than dead longer ago than this duration\n' +
        '\nWith no filter, every record. `dlq import` restores them with the same ids and data.\n' +
        examples(
          'pnpm admin dlq export --out dlq-backup.ndjson',
          'pnpm admin dlq export --reason forbidden > forbidden.ndjson',
          'pnpm admin dlq export --tenant acme --since 7d | gzip > acme.ndjson.gz',
        ),
    )
    .action(async (flags: ExportFlags) => {
      const filter = filterOf(flags)
      const queues = await ctx.queues()
      let result
      if (flags.out) {
        // Written beside the target and renamed at the end: a failed export leaves no half file behind.
        const target = flags.out
        const temp = `${target}.${process.pid}.tmp`
        const file = createWriteStream(temp, { encoding: 'utf8' })
        const opened = new Promise<void>((resolve, reject) => {
          file.once('open', () => resolve())
          file.once('error', reject)
        })
        try {
          await opened
        } catch (error) {
          throw new FileError(
            `cannot write ${target} (${(error as NodeJS.ErrnoException).code ?? 'write error'})`,
          )
        }
        try {
          result = await exportRecords(queues, { filter }, file)
          await new Promise<void>((resolve, reject) =>
            file.end((error?: Error | null) => (error ? reject(error) : resolve())),
          )
          await rename(temp, target)
        } catch (error) {
          file.destroy()
          await rm(temp, { force: true })
          throw error
        }
        await err(`Exported ${plural(result.exported, 'record')} to ${target}.\n`)
      } else {
        result = await exportRecords(queues, { filter }, stdout)
        await err(`Exported ${plural(result.exported, 'record')}.\n`)
      }
      if (result.invalid.length > 0) {
        await err(
          `Left out ${plural(result.invalid.length, 'job')} not matching the record schema: ` +
            `${result.invalid
              .slice(0, 10)
              .map(i => i.id)
              .join(', ')}${result.invalid.length > 10 ? ', ...' : ''}\n`,
        )
      }
    })

  // ---- dlq import ----
  dlq
    .command('import')
    .description('Add dead-letter records from an NDJSON export, with their original ids')
    .argument('<file>', 'NDJSON file written by dlq export')
    .option('--dry-run', 'validate the file and say what would be imported; change nothing')
    .addHelpText(
      'after',
      '\nEvery line is checked first (a {"id","record"} object, the record valid); any bad line is reported\n' +
        'with its number and nothing is imported. Then the records are added, 1,000 at a time. Ids already\n' +
        'in the DLQ are left as they are, so importing the same file twice changes nothing, and if Redis\n' +
        'fails part-way (the message says how many went in), running the same import again completes it.\n' +
        examples(
          'pnpm admin dlq import dlq-backup.ndjson --dry-run',
          'pnpm admin dlq import dlq-backup.ndjson',
        ),
    )
    .action(async (file: string, flags: { dryRun?: boolean }) => {
      const parsed = await parseImportFile(file)
      if (parsed.problems.length > 0) throw new ImportFileError(file, parsed.problems)
      const queues = await ctx.queues()
      const result = await importRecords(queues, parsed.items, { dryRun: flags.dryRun === true, file })
      const present =
        result.alreadyPresent.length > 0
          ? `; ${plural(result.alreadyPresent.length, 'id')} already in the DLQ left as they are`
          : ''
      await out(
        flags.dryRun
          ? `Dry run: ${file} is valid; would import ${plural(result.imported, 'record')}${present}. Nothing was changed.\n`
          : `Imported ${plural(result.imported, 'record')} from ${file}${present}.\n`,
      )
    })

  return program
}

function commanderExitCode(error: CommanderError): number {
  switch (error.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return EXIT_OK
    case 'commander.help':
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE
    default:
      return EXIT_USAGE
  }
}

/**
 * The admin CLI as a function of its dependencies, so tests run it in-process. Each `run` parses
 * one command line with a fresh commander program, connects to Redis only when the command needs
 * it (so `--help` and usage errors work without Redis), and closes what it opened.
 */
export function buildCli(options: CliOptions): Cli {
  const now = options.now ?? (() => new Date())
  return {
    async run(argv) {
      let queues: Promise<AdminQueues> | undefined
      const ctx: Context = {
        opts: options,
        now,
        exitCode: EXIT_OK,
        queues() {
          queues ??= openQueues(options.config, { connectTimeoutMs: options.connectTimeoutMs })
          return queues
        },
      }
      const program = createProgram(ctx)
      try {
        await program.parseAsync([...argv], { from: 'user' })
        return ctx.exitCode
      } catch (error) {
        if (error instanceof CommanderError) return commanderExitCode(error)
        if (error instanceof ImportFileError) {
          const lines = error.problems.slice(0, MAX_PROBLEMS_SHOWN).map(p => `  line ${p.line}: ${p.message}`)
          if (error.problems.length > MAX_PROBLEMS_SHOWN) {
            lines.push(`  ... and ${error.problems.length - MAX_PROBLEMS_SHOWN} more`)
          }
          await writeOut(options.stderr, `error: ${error.message}:\n${lines.join('\n')}\n`)
          return error.exitCode
        }
        if (error instanceof AdminError) {
          const hint = error instanceof UsageError ? '\n(add --help for usage and examples)' : ''
          await writeOut(options.stderr, `error: ${error.message}${hint}\n`)
          return error.exitCode
        }
        const message = error instanceof Error ? error.message : String(error)
        await writeOut(options.stderr, `error: ${message}\n`)
        return EXIT_FAILURE
      } finally {
        if (queues) await queues.then(q => q.close()).catch(() => undefined)
      }
    },
  }
}
