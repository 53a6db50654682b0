export { percentile, perSecond, ratio, round, formatBytes, formatCount, formatMs, formatRatio } from './stats'
export { renderTable, renderMarkdownTable } from './table'
export { checkTargets, LIMITS } from './targets'
export { renderReport, renderMarkdownReport, reportTables } from './report'
export { summarizeProfile, renderProfileSummary, packageOf } from './profile'
export { BodyFactory, trackEvent, messageIdOf, userIdOf, EVENT_BYTES, EVENTS_PER_BATCH } from './workload'
export { runBench, SECTIONS } from './run'
export { MODES } from './context'
export { parseCli } from './cli'
export type { Table, TableColumn } from './table'
export type {
  BenchResults,
  MachineInfo,
  LoadSample,
  HttpRun,
  AddBulkRun,
  IngestComparison,
  IngestSection,
  DrainRun,
  WorkerSection,
  MemoryItem,
  MemorySection,
  TargetCheck,
} from './results'
export type { CpuProfile, ProfileSummary, ProfileEntry } from './profile'
export type { RunOptions, Running, Section } from './run'
export type { ModeSettings } from './context'
export type { CliOptions } from './cli'
