import type { Command } from 'commander'
import type { FilterFlags } from '../filters'
import { plural } from '../output'
import { exportRecords, exportToFile, type ExportResult } from '../transfer'
import type { Context } from './context'
import { addFilterOptions, examples, FILTER_HELP } from './options'

interface ExportFlags extends FilterFlags {
  out?: string
}

/** `dlq export`: matching records as NDJSON, to stdout or a file. */
export function dlqExportCommand(dlq: Command, ctx: Context): void {
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
      const filter = ctx.filterOf(flags)
      const queues = await ctx.queues()
      let result: ExportResult
      if (flags.out) {
        result = await exportToFile(queues, { filter }, flags.out)
        await ctx.err(`Exported ${plural(result.exported, 'record')} to ${flags.out}.\n`)
      } else {
        result = await exportRecords(queues, { filter }, ctx.opts.stdout)
        await ctx.err(`Exported ${plural(result.exported, 'record')}.\n`)
      }
      if (result.invalid.length > 0) {
        await ctx.err(
          `Left out ${plural(result.invalid.length, 'job')} not matching the record schema: ` +
            `${result.invalid
              .slice(0, 10)
              .map(i => i.id)
              .join(', ')}${result.invalid.length > 10 ? ', ...' : ''}\n`,
        )
      }
    })
}
