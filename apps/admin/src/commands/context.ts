import type { DlqFilter, FilterFlags } from '../filters'
import type { Output } from '../output'
import type { AdminQueues, RedisTarget } from '../store'

/** The dependencies of `buildCli`. */
export interface CliOptions {
  /** Where the queues are: `Config` from @ucd/config (only redisUrl and queuePrefix are used). */
  config: RedisTarget
  stdout: Output
  stderr: Output
  /** The clock for relative filters and replay timestamps. */
  now?: () => Date
  /** Waits between replays (`--rate`); resolves early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Aborting it stops a replay between two records (main.ts wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal
  /** How often a long replay prints a progress line to stderr (default 1000 ms). */
  progressIntervalMs?: number
  /** How long to wait for Redis before failing (default 3000 ms). */
  connectTimeoutMs?: number
}

/** What every command gets: the options of `buildCli`, the queues (opened on first use) and its output. */
export interface Context {
  readonly opts: CliOptions
  readonly now: () => Date
  /** Opens the queues on first call (so `--help` and usage errors need no Redis); `buildCli` closes them. */
  queues(): Promise<AdminQueues>
  /** Writes to stdout / stderr, waiting for `drain` when the stream asks for it. */
  readonly out: (text: string) => Promise<void>
  readonly err: (text: string) => Promise<void>
  /** The filter of the filter flags, relative times measured from `now()`. */
  readonly filterOf: (flags: FilterFlags) => DlqFilter
  /** What `run` resolves to when the command returns normally (a command sets 1 for a partial failure). */
  exitCode: number
}

/** Most problems (skipped or failed records, bad import lines) a text summary lists one by one. */
export const MAX_PROBLEMS_SHOWN = 50
