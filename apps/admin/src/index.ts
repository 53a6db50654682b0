export { buildCli } from './cli'
export {
  AdminError,
  UsageError,
  RedisUnreachableError,
  UnknownIdError,
  ImportFileError,
  FileError,
  EXIT_OK,
  EXIT_FAILURE,
  EXIT_USAGE,
} from './errors'
export {
  parseDuration,
  parseTimeBound,
  buildFilter,
  matchesFilter,
  isEmptyFilter,
  collectList,
  eventUser,
} from './filters'
export { planReplay, replayEntry, runReplay, progressLine, MAX_CONSECUTIVE_FAILURES } from './replay'
export { collectStats, EVENT_STATES, DLQ_STATES } from './stats'
export { openQueues, scanDlq, getEntries, findEntry, selectEntries, redactUrl, RECORD_STATES } from './store'
export {
  exportRecords,
  importRecords,
  parseImportFile,
  exportLine,
  ExportLineSchema,
  DlqJobIdSchema,
} from './transfer'
export { formatTable, formatAge } from './output'
export type { Cli, CliOptions } from './cli'
export type { LineProblem } from './errors'
export type { DlqFilter, FilterFlags } from './filters'
export type { ReplayPlan, ReplayOutcome, ReplaySummary, ReplayRunOptions, ItemResult } from './replay'
export type { QueueStats } from './stats'
export type { AdminQueues, AdminShard, DlqEntry, DlqSource, RedisTarget, Selection } from './store'
export type { ExportLine, ExportResult, ImportResult, ParsedImport } from './transfer'
export type { Output } from './output'
