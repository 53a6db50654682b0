import type { Command } from 'commander'
import { UsageError } from '../errors'
import { collectList, isEmptyFilter, type DlqFilter } from '../filters'

/** The help text of the filter flags, shared by `list`, `replay`, `purge` and `export`. */
export const FILTER_HELP = `
Filters (combine freely; every one given must match; a flag may repeat or take a comma list):
  --reason     forbidden | unauthorized | rejected | exhausted | invalid
  --type       identify | track | page | screen | group | alias
  --tenant     tenant id (single-tenant setups use "default")
  --user       userId or anonymousId
  --since      dead at or after: ISO date (2024-05-01, 2024-05-01T12:00:00Z) or a time ago (30m, 2h, 7d)
  --until      dead before: same forms`

/** An "Examples:" help section, one `$ command` a line. */
export const examples = (...lines: string[]): string =>
  `\nExamples:\n${lines.map(l => `  $ ${l}`).join('\n')}\n`

/** Adds the filter flags (`FilterFlags`) to a command; `olderThan` adds `--older-than` too. */
export function addFilterOptions(command: Command, options: { olderThan?: boolean } = {}): Command {
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

/**
 * The selector rule of the commands that change records (`replay`, `purge`): ids, filters or `--all`,
 * never none (a usage error naming `filterNames`) and never ids with `--all`.
 */
export function requireSelection(
  verb: string,
  ids: readonly string[],
  filter: DlqFilter,
  all: boolean | undefined,
  filterNames: string,
): void {
  if (all && ids.length > 0) throw new UsageError('give ids or --all, not both')
  if (ids.length === 0 && isEmptyFilter(filter) && !all) {
    throw new UsageError(`say which records to ${verb}: ids, filters (${filterNames}), or --all`)
  }
}
