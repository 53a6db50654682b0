import type { Command } from 'commander'
import { EXIT_FAILURE, UsageError } from '../errors'
import { isEmptyFilter, type FilterFlags } from '../filters'
import { plural } from '../output'
import { selectEntries, type AdminShard } from '../store'
import type { Context } from './context'
import { addFilterOptions, examples, FILTER_HELP, requireSelection } from './options'

/** Records removed at once (in parallel) by a purge. */
const PURGE_CHUNK = 100

interface PurgeFlags extends FilterFlags {
  all?: boolean
  yes?: boolean
  json?: boolean
}

/** `dlq purge`: deletes the selected records for good; without `--yes` only says how many (exit 2). */
export function dlqPurgeCommand(dlq: Command, ctx: Context): void {
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
      const { out, err } = ctx
      const filter = ctx.filterOf(flags)
      requireSelection(
        'purge',
        ids,
        filter,
        flags.all,
        '--reason, --type, --tenant, --user, --since, --until, --older-than',
      )
      const queues = await ctx.queues()
      const selected: { id: string; shard: AdminShard }[] = []
      const byReason: Record<string, number> = {}
      // Records that are not valid DLQ records match no filter, but ids or a bare --all name them.
      const takeUnreadable = ids.length > 0 || isEmptyFilter(filter)
      for await (const entry of selectEntries(
        queues,
        { ids: ids.length > 0 ? ids : undefined, filter },
        {
          onInvalid: invalid => {
            if (!takeUnreadable) return
            selected.push({ id: invalid.id, shard: invalid.shard })
            byReason.unreadable = (byReason.unreadable ?? 0) + 1
          },
        },
      )) {
        selected.push({ id: entry.id, shard: entry.shard })
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
          selected.slice(i, i + PURGE_CHUNK).map(({ id, shard }) => shard.deadLetter.remove(id)),
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
}
