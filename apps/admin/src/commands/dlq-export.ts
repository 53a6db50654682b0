import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import type { Command } from 'commander'
import { FileError } from '../errors'
import type { FilterFlags } from '../filters'
import { plural, type Output } from '../output'
import { exportRecords, type ExportResult } from '../transfer'
import type { Context } from './context'
import { addFilterOptions, examples, FILTER_HELP } from './options'

interface ExportFlags extends FilterFlags {
  out?: string
}

/**
 * Runs `write` into `target` through a temporary file beside it, renamed at the end: a failed export
 * leaves no half file behind.
 */
async function writeAtomically<T>(target: string, write: (file: Output) => Promise<T>): Promise<T> {
  const temp = `${target}.${process.pid}.tmp`
  const file = createWriteStream(temp, { encoding: 'utf8' })
  const opened = new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve())
    file.once('error', reject)
  })
  try {
    await opened
  } catch (error) {
    throw new FileError(`cannot write ${target} (${(error as NodeJS.ErrnoException).code ?? 'write error'})`)
  }
  try {
    const result = await write(file)
    await new Promise<void>((resolve, reject) =>
      file.end((error?: Error | null) => (error ? reject(error) : resolve())),
    )
    await rename(temp, target)
    return result
  } catch (error) {
    file.destroy()
    await rm(temp, { force: true })
    throw error
  }
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
        result = await writeAtomically(flags.out, file => exportRecords(queues, { filter }, file))
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
