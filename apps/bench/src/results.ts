import type { ConsistencySection } from './scenarios/consistency'
// The shape of one benchmark run: what is printed and written to results/*.json.

export interface MachineInfo {
  cores: number
  cpuModel: string
  totalMemoryBytes: number
  node: string
  platform: string
  versions: {
    bullmq: string
    ioredis: string
    fastify: string
    autocannon: string
    axios: string
    redisServer: string
  }
}

/** os.loadavg() at a moment of the run (1, 5 and 15 minutes). */
export interface LoadSample {
  at: string
  phase: string
  loadavg: [number, number, number]
}

/** One autocannon run against an HTTP server. */
export interface HttpRun {
  target: 'ingest' | 'bare-fastify'
  route: string
  connections: number
  durationS: number
  /** 2xx responses. */
  requests: number
  non2xx: number
  errors: number
  eventsPerRequest: number
  requestsPerSec: number
  eventsPerSec: number
  latencyP50Ms: number
  latencyP99Ms: number
  /** CPU time per event of the server process and of Redis, in microseconds. */
  cpuUsPerEvent: CpuPerEvent
  loadavg1: number
  /** Set for an open-loop run: the requests/s due in total (open-load.ts: evenly spaced, latency from when each was due). */
  offeredRequestsPerSec?: number
}

export interface CpuPerEvent {
  process: number
  redis: number
}

/** The bare BullMQ producer: `loops` parallel loops of `addBulk(eventsPerCall jobs)`. */
export interface AddBulkRun {
  loops: number
  eventsPerCall: number
  durationS: number
  calls: number
  eventsPerSec: number
  latencyP50Ms: number
  latencyP99Ms: number
  cpuUsPerEvent: CpuPerEvent
  loadavg1: number
}

/**
 * One route: the ingest and the bare addBulk loop run in alternation (`rounds` times each, so load
 * from elsewhere hits both alike); the run shown is the median round of each.
 */
export interface IngestComparison {
  rounds: number
  ingest: HttpRun
  bareFastify: HttpRun
  bareAddBulk: AddBulkRun
  /** events/s of every round, in order. */
  ingestRounds: number[]
  bareAddBulkRounds: number[]
}

export interface IngestSection {
  logLevel: string
  connections: number
  /** JSON bytes of one event as sent. */
  eventBytes: number
  /** JSON bytes of one /v1/batch body (100 events). */
  batchBodyBytes: number
  batch: IngestComparison
  track: IngestComparison
  /** VmHWM after the runs above. */
  peakRssBytes: { ingest: number; bareFastify: number; bareAddBulk: number }
}

/** One drain of a pre-filled queue by one or more worker processes. */
export interface DrainRun {
  impl: 'ucd' | 'bare'
  /** 1, 2, ...: the same configuration runs once per round (ucd and bare alternating). */
  round: number
  latencyMs: number
  /** Per process. */
  concurrency: number
  processes: number
  /** Events delivered between the first delivery and the end of the drain (the measured ones). */
  events: number
  /** Events pre-filled (all delivered). */
  prefilled: number
  seconds: number
  eventsPerSec: number
  /** processes × concurrency / latency, when the simulator adds latency. */
  idealEventsPerSec?: number
  /** Largest VmHWM of the worker processes. */
  peakRssBytes: number
  /** CPU used during the measured window, in % of one core: the worker processes together, the simulator, Redis. */
  cpuPercent: { workers: number; simulator: number; redis: number }
  /** CPU time of the worker processes per event, in microseconds. */
  workerCpuUsPerEvent: number
  /**
   * Event listings (`GET /users-by-id/:custom_id/events/`, the in-doubt lookups) counted at the simulator
   * over the whole run: 0 on a fault-free run, where no step is ever in doubt.
   */
  listingRequests?: number
  loadavg1: number
}

export interface WorkerSection {
  logLevel: string
  /** Rounds of each configuration; the tables show the median round. */
  rounds: number
  users: number
  eventBytes: number
  runs: DrainRun[]
  scaleOut: DrainRun[]
}

/** Redis memory of `items` things, from `INFO memory` used_memory before and after. */
export interface MemoryItem {
  items: number
  usedMemoryDeltaBytes: number
  /** Of the delta: BullMQ's events streams (bounded at about 10 000 entries per queue, whatever the count). */
  streamBytes: number
  bytesPerItem: number
  bytesPerItemExcludingStreams: number
}

export interface MemorySection {
  events: number
  /** JSON bytes of one event as sent. */
  eventBytes: number
  /** JSON bytes of one job's data as stored (the normalised event and its envelope). */
  jobDataBytes: number
  waitingEvent: MemoryItem
  dedupeMarker: MemoryItem
  dlqRecord: MemoryItem
}

/** One fuzz case: a long run of one character class in one field (fuzz-workload.ts), timed. */
export interface FuzzCaseResult {
  charClass: string
  field: string
  /** Units of the class in the run. */
  runLength: number
  /** JSON bytes of the event as sent (at most 32 KB). */
  eventBytes: number
  /** Whether normalizeEvent accepted it (a refused event is not planned). */
  valid: boolean
  /** Median CPU time over the repetitions, in milliseconds. */
  normalizeMs: number
  planMs: number
}

/** Section 5: normalizeEvent and planEvent on hostile strings, in process (issue 18). */
export interface FuzzSection {
  repetitions: number
  cases: number
  validEvents: number
  maxEventBytes: number
  medianNormalizeMs: number
  medianPlanMs: number
  worstNormalize: FuzzCaseResult
  worstPlan: FuzzCaseResult
  /** The ten slowest cases (by the larger of the two figures). */
  slowest: FuzzCaseResult[]
}

export interface TargetCheck {
  id: string
  description: string
  measured: number | undefined
  limit: number
  comparison: '>=' | '<='
  unit: 'ratio' | 'bytes' | 'ms'
  status: 'PASS' | 'MISS' | 'N/A'
}

/** Issue 20 and 18: /v1/track at 100 connections with and without linger, /v1/batch, event-loop delay. */
export interface LingerSection {
  trackConnections: number
  /** INGEST_LINGER_MS of the "linger on" runs (absent in results from before it was recorded: 1). */
  lingerOnMs?: number
  /**
   * Events/s of each round of the linger-on runs and their ceilings, measured alternately (the median
   * round of each is the one shown); absent in results from before the rounds.
   */
  rounds?: { track: number[]; trackCeiling: number[]; batch: number[]; batchCeiling: number[] }
  track: {
    lingerOn: HttpRun
    lingerOff: HttpRun
    /** A bare Fastify route doing one addBulk(1 job) per request. */
    bareAddBulkRoute: HttpRun
    /** 100 loops of addBulk(1 job). */
    addBulkCeiling: AddBulkRun
    lingerOnPctOfCeiling: number
    lingerOffPctOfCeiling: number
    /**
     * Open loop (browsers send when their users act, not when the last answer came): the same 100
     * connections at a fixed total rate, `OPEN_LOOP_SHARE` of `addBulkCeiling`. Latency here is what a
     * browser sees below saturation; in the closed loop above it is 100 / throughput (Little's law).
     * Absent in results written before it was measured.
     */
    openLoop?: {
      offeredPerSec: number
      /** Seconds sent at that rate to the fresh ingest before the measured window (absent in older results). */
      warmupS?: number
      lingerOn: HttpRun
      lingerOff: HttpRun
    }
  }
  batch: { ingest: HttpRun; addBulkCeiling: AddBulkRun; pctOfCeiling: number }
  /**
   * Issue 18: the ingest's event-loop delay (max) while it takes `batches` maximal batches one after
   * another, after one more maximal batch whose delay (`firstBatchDelayMs`, a fresh process: JIT
   * warm-up) is shown apart; absent in results written before it was.
   */
  eventLoop: {
    batches: number
    items: number
    bodyBytes: number
    maxDelayMs: number
    firstBatchDelayMs?: number
  }
}

/** One round of one layout of the `cluster` section. */
export interface ClusterRun {
  layout: string
  shards: number
  round: number
  events: number
  /** Events/s into the events queues (addBulk of 100 per shard, 10 loops). */
  enqueuePerSec: number
  /** Events/s delivered by one worker process (concurrency 50 split over the shards). */
  workerPerSec: number
}

/** `--only cluster` (issue 19): 1 shard on one node vs 6 shards on a local 3-master cluster. */
export interface ClusterSection {
  runs: ClusterRun[]
  /** Medians per layout. */
  summary: { layout: string; shards: number; enqueuePerSec: number; workerPerSec: number }[]
  /** DBSIZE of each master at the end (keys of every shard). */
  dbSizes: number[]
  concurrency: number
  loops: number
  bulk: number
}

export interface BenchResults {
  schema: 1
  mode: 'quick' | 'full'
  startedAt: string
  finishedAt: string
  durationS: number
  machine: MachineInfo
  /**
   * The private redis-server: no persistence; the memory settings of infra/redis/redis.conf.
   * Absent when no section needed one (`--only fuzz`).
   */
  redis?: { persistence: 'none'; settings: Record<string, string> }
  /** Set when the apps measured were those of another checkout (`--apps-from`). */
  appsFrom?: string
  load: LoadSample[]
  ingest?: IngestSection
  worker?: WorkerSection
  memory?: MemorySection
  fuzz?: FuzzSection
  /** `--only consistency` (issue 14): identify-heavy throughput with consistency on vs off, clock bytes. */
  consistency?: ConsistencySection
  linger?: LingerSection
  cluster?: ClusterSection
  isolation?: IsolationSection
  targets: TargetCheck[]
  notes: string[]
}

/** `--only isolation` (scenarios/isolation.ts): tenant isolation under a 429 storm and hostile identifies. */
export interface IsolationSection {
  bAloneEventsPerS: number
  bWithA429EventsPerS: number
  /** B's throughput with A answered 429 ÷ alone (target ≥ 0.8). */
  ratio429: number
  tracksAloneS: number
  tracksAfterHostileS: number
  /** Time for 100 tracks alone ÷ behind 15 hostile identifies (1: as fast). */
  hostileRatio: number
  hostileAttributesCreated: number
  attributeBudget: number
}
