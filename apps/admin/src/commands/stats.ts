import type { Command } from 'commander'
import { formatAge, formatTable, plural, shortTime } from '../output'
import { collectStats, type QueueStats } from '../stats'
import type { Context } from './context'
import { examples } from './options'

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

/** `stats`: jobs per queue and state, the DLQ by reason and tenant, workers, paused / rate limited. */
export function statsCommand(program: Command, ctx: Context): void {
  program
    .command('stats')
    .description(
      'Jobs per queue and state, DLQ by reason and tenant, oldest waiting event, workers, paused / rate limited',
    )
    .option('--json', 'print JSON')
    .addHelpText('after', examples('pnpm admin stats', 'pnpm admin stats --json | jq .deadLetter.byReason'))
    .action(async (flags: { json?: boolean }) => {
      const stats = await collectStats(await ctx.queues(), ctx.now())
      await ctx.out(flags.json ? `${JSON.stringify(stats, null, 2)}\n` : statsText(stats))
    })
}
