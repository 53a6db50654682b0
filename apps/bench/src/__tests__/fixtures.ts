import type {
  AddBulkRun,
  BenchResults,
  DrainRun,
  FuzzCaseResult,
  HttpRun,
  LingerSection,
  MemoryItem,
} from '../results'

export function httpRun(target: HttpRun['target'], route: string, eventsPerSec: number): HttpRun {
  const eventsPerRequest = route === '/v1/batch' ? 100 : 1
  return {
    target,
    route,
    connections: 10,
    durationS: 6,
    requests: Math.round((eventsPerSec * 6) / eventsPerRequest),
    non2xx: 0,
    errors: 0,
    eventsPerRequest,
    requestsPerSec: eventsPerSec / eventsPerRequest,
    eventsPerSec,
    latencyP50Ms: 12,
    latencyP99Ms: 40,
    cpuUsPerEvent: { process: 100, redis: 50 },
    loadavg1: 1,
  }
}

export function addBulkRun(eventsPerCall: number, eventsPerSec: number): AddBulkRun {
  return {
    loops: 10,
    eventsPerCall,
    durationS: 6,
    calls: Math.round((eventsPerSec * 6) / eventsPerCall),
    eventsPerSec,
    latencyP50Ms: 50,
    latencyP99Ms: 90,
    cpuUsPerEvent: { process: 60, redis: 40 },
    loadavg1: 1,
  }
}

export function drainRun(
  impl: DrainRun['impl'],
  latencyMs: number,
  concurrency: number,
  eventsPerSec: number,
  extra: Partial<DrainRun> = {},
): DrainRun {
  return {
    impl,
    round: 1,
    latencyMs,
    concurrency,
    processes: 1,
    events: 1000,
    prefilled: 1050,
    seconds: 1000 / eventsPerSec,
    eventsPerSec,
    ...(latencyMs > 0 ? { idealEventsPerSec: (concurrency * 1000) / latencyMs } : {}),
    peakRssBytes: 150 * 1024 * 1024,
    cpuPercent: { workers: 90, simulator: 30, redis: 15 },
    workerCpuUsPerEvent: 800,
    loadavg1: 1,
    ...extra,
  }
}

const memoryItem = (items: number, bytesPerItem: number): MemoryItem => ({
  items,
  usedMemoryDeltaBytes: items * bytesPerItem,
  streamBytes: 0,
  bytesPerItem,
  bytesPerItemExcludingStreams: bytesPerItem,
})

/** A complete run: every target met except the latency-bound ideal at concurrency 200. */
export function fuzzCase(
  charClass: string,
  field: string,
  normalizeMs: number,
  planMs: number,
): FuzzCaseResult {
  return { charClass, field, runLength: 32_000, eventBytes: 32_700, valid: true, normalizeMs, planMs }
}

export function results(): BenchResults {
  return {
    schema: 1,
    mode: 'full',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    durationS: 600,
    machine: {
      cores: 2,
      cpuModel: 'Test CPU',
      totalMemoryBytes: 8 * 1024 ** 3,
      node: 'v20.20.2',
      platform: 'linux',
      versions: {
        bullmq: '6.7.0',
        ioredis: '6.0.0',
        fastify: '5.12.8',
        autocannon: '9.0.0',
        axios: '1.21.1',
        redisServer: '7.0.15',
      },
    },
    redis: { persistence: 'none', settings: { 'hash-max-listpack-value': '4096' } },
    load: [{ at: '2026-01-01T00:00:00.000Z', phase: 'start', loadavg: [0.5, 0.4, 0.3] }],
    ingest: {
      logLevel: 'info',
      connections: 10,
      eventBytes: 1024,
      batchBodyBytes: 102_500,
      batch: {
        rounds: 1,
        ingest: httpRun('ingest', '/v1/batch', 9000),
        bareFastify: httpRun('bare-fastify', '/v1/batch', 90_000),
        bareAddBulk: addBulkRun(100, 15_000),
        ingestRounds: [9000],
        bareAddBulkRounds: [15_000],
      },
      track: {
        rounds: 1,
        ingest: httpRun('ingest', '/v1/track', 1000),
        bareFastify: httpRun('bare-fastify', '/v1/track', 16_000),
        bareAddBulk: addBulkRun(1, 6000),
        ingestRounds: [1000],
        bareAddBulkRounds: [6000],
      },
      peakRssBytes: { ingest: 150 * 1024 ** 2, bareFastify: 80 * 1024 ** 2, bareAddBulk: 140 * 1024 ** 2 },
    },
    worker: {
      logLevel: 'info',
      rounds: 1,
      users: 50,
      eventBytes: 1024,
      runs: [1, 10, 50, 200].flatMap(c => [
        drainRun('ucd', 0, c, 900),
        drainRun('bare', 0, c, 1000),
        drainRun('ucd', 50, c, Math.min(c * 20 * 0.9, 1100)),
        drainRun('bare', 50, c, Math.min(c * 20 * 0.95, 1300)),
      ]),
      scaleOut: [1, 2, 4].map(p =>
        drainRun('ucd', 50, 50, 700 * Math.min(p, 2), { processes: p, idealEventsPerSec: p * 1000 }),
      ),
    },
    memory: {
      events: 20_000,
      eventBytes: 1024,
      jobDataBytes: 1200,
      waitingEvent: memoryItem(20_000, 1860),
      dedupeMarker: memoryItem(20_000, 125),
      dlqRecord: memoryItem(20_000, 2400),
    },
    fuzz: {
      repetitions: 15,
      cases: 1540,
      validEvents: 1508,
      maxEventBytes: 32_768,
      medianNormalizeMs: 0.05,
      medianPlanMs: 0.01,
      worstNormalize: fuzzCase('capitals', 'identify traits.<name>', 0.62, 0.3),
      worstPlan: fuzzCase('digits + !', 'identify float attribute', 0.05, 1.8),
      slowest: [fuzzCase('digits + !', 'identify float attribute', 0.05, 1.8)],
    },
    linger: lingerSection(),
    targets: [],
    notes: [],
  }
}

/** Issue 20's section: track at 62.8 % and batch at 59.3 % of their ceilings, open-loop p99 8 ms. */
export function lingerSection(): LingerSection {
  const at = (run: HttpRun, p50: number, p99: number, extra: Partial<HttpRun> = {}): HttpRun => ({
    ...run,
    connections: 100,
    latencyP50Ms: p50,
    latencyP99Ms: p99,
    ...extra,
  })
  return {
    trackConnections: 100,
    track: {
      lingerOn: at(httpRun('ingest', '/v1/track', 5400), 18, 35),
      lingerOff: at(httpRun('ingest', '/v1/track', 3000), 33, 60),
      bareAddBulkRoute: at(httpRun('bare-fastify', '/v1/track', 4000), 24, 48),
      addBulkCeiling: { ...addBulkRun(1, 8600), loops: 100 },
      lingerOnPctOfCeiling: 62.8,
      lingerOffPctOfCeiling: 34.9,
      openLoop: {
        offeredPerSec: 5160,
        lingerOn: at(httpRun('ingest', '/v1/track', 5150), 3, 8, { offeredRequestsPerSec: 5160 }),
        lingerOff: at(httpRun('ingest', '/v1/track', 5100), 5, 30, { offeredRequestsPerSec: 5160 }),
      },
    },
    batch: {
      ingest: httpRun('ingest', '/v1/batch', 16_000),
      addBulkCeiling: addBulkRun(100, 27_000),
      pctOfCeiling: 59.3,
    },
    eventLoop: { batches: 20, items: 2500, bodyBytes: 497_291, maxDelayMs: 60 },
  }
}
