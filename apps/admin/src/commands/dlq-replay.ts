import type { Command } from 'commander'
import { EXIT_FAILURE } from '../errors'
import { eventUser, isEmptyFilter, parsePositiveInt, parsePositiveNumber, type FilterFlags } from '../filters'
import { formatTable, plural } from '../output'
import { runReplay, type ItemResult, type ReplaySummary } from '../replay'
import { MAX_PROBLEMS_SHOWN, type Context } from './context'
import { addFilterOptions, examples, FILTER_HELP, requireSelection } from './options'

interface ReplayFlags extends FilterFlags {
  all?: boolean
  limit?: string
  dryRun?: boolean
  rate?: string
  json?: boolean
}

/** Waits `ms` (between replays, for `--rate`); resolves early when `signal` aborts. */
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

/** `dlq replay`: records back on the events queue (`runReplay`), with dry run, rate and a summary. */
export function dlqReplayCommand(dlq: Command, ctx: Context): void {
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
      const { opts, out } = ctx
      const filter = ctx.filterOf(flags)
      const limit = flags.limit === undefined ? undefined : parsePositiveInt('--limit', flags.limit)
      const rate = flags.rate === undefined ? undefined : parsePositiveNumber('--rate', flags.rate)
      requireSelection(
        'replay',
        ids,
        filter,
        flags.all,
        '--reason, --type, --tenant, --user, --since, --until',
      )
      const queues = await ctx.queues()
      const items: ItemResult[] = []
      const summary = await runReplay(queues, {
        selection: { ids: ids.length > 0 ? ids : undefined, filter, limit },
        countInvalid: isEmptyFilter(filter),
        dryRun: flags.dryRun === true,
        rate,
        now: ctx.now,
        sleep: opts.sleep ?? defaultSleep,
        signal: opts.signal,
        progressIntervalMs: opts.progressIntervalMs ?? 1000,
        onProgress: line => void opts.stderr.write(`${line}\n`),
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
}
