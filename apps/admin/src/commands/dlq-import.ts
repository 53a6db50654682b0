import type { Command } from 'commander'
import { ImportFileError } from '../errors'
import { plural } from '../output'
import { importRecords, parseImportFile } from '../transfer'
import type { Context } from './context'
import { examples } from './options'

/** `dlq import <file>`: records from an export, under their ids; every line is checked first. */
export function dlqImportCommand(dlq: Command, ctx: Context): void {
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
      await ctx.out(
        flags.dryRun
          ? `Dry run: ${file} is valid; would import ${plural(result.imported, 'record')}${present}. Nothing was changed.\n`
          : `Imported ${plural(result.imported, 'record')} from ${file}${present}.\n`,
      )
    })
}
