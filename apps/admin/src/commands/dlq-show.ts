import type { Command } from 'commander'
import { UnknownIdError } from '../errors'
import { findEntry } from '../store'
import type { Context } from './context'
import { examples } from './options'

/** `dlq show <id>`: one record in full, with its job's name, state and when it was added. */
export function dlqShowCommand(dlq: Command, ctx: Context): void {
  dlq
    .command('show')
    .description('Show one dead-letter record in full (pretty JSON)')
    .argument('<id>', 'dead-letter job id (from dlq list)')
    .addHelpText('after', examples('pnpm admin dlq show default-Qm9vYmFyYmF6cXV4cXV1eA-r0'))
    .action(async (id: string) => {
      const queues = await ctx.queues()
      const entry = await findEntry(queues, id)
      if (!entry) throw new UnknownIdError([id])
      const { job } = entry
      const state = await job.getState()
      const shown = {
        id,
        name: job.name,
        state,
        addedAt: new Date(job.timestamp).toISOString(),
        ...(entry.problem ? { problem: entry.problem } : {}),
        record: job.data,
      }
      await ctx.out(`${JSON.stringify(shown, null, 2)}\n`)
    })
}
