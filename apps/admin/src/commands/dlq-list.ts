import type { Command } from 'commander'
import { eventUser, parsePositiveInt, type FilterFlags } from '../filters'
import { formatTable, plural, shortTime } from '../output'
import { selectEntries, type DlqEntry } from '../store'
import type { Context } from './context'
import { addFilterOptions, examples, FILTER_HELP } from './options'

const LIST_LIMIT = 100
const LIST_HEADERS = ['ID', 'DEAD AT', 'REASON', 'STATUS', 'TENANT', 'TYPE', 'USER', 'ERROR', 'REPLAYS']

interface ListFlags extends FilterFlags {
  limit?: string
  json?: boolean
}

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

/** `dlq list`: matching records, oldest first, as a table or a JSON array, streamed. */
export function dlqListCommand(dlq: Command, ctx: Context): void {
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
      const { out, err } = ctx
      const filter = ctx.filterOf(flags)
      const limit = flags.limit === undefined ? LIST_LIMIT : parsePositiveInt('--limit', flags.limit)
      const queues = await ctx.queues()
      const invalid: string[] = []
      const rows: string[][] = []
      let shown = 0
      let more = false
      if (flags.json) await out('[')
      for await (const entry of selectEntries(
        queues,
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
}
