import type { BenchResults, DrainRun, FuzzCaseResult, HttpRun, MemoryItem, TargetCheck } from './results'
import { formatBytes, formatCount, formatMs, formatRatio, ratio } from './stats'
import { consistencyTable } from './scenarios/consistency'
import { lingerTable } from './scenarios/linger'
import { pickRun } from './targets'
import { renderMarkdownTable, renderTable, type Table } from './table'

// The printed report: one table per section, then the targets. Pure: results in, tables out.

function machineLines(results: BenchResults): string[] {
  const m = results.machine
  const ones = results.load.map(l => l.loadavg[0])
  const first = results.load[0]
  const last = results.load.at(-1)
  const load =
    first && last
      ? `start ${first.loadavg.map(v => v.toFixed(2)).join('/')} (1/5/15 min), 1-minute average ` +
        `${Math.min(...ones).toFixed(2)}..${Math.max(...ones).toFixed(2)} over ${results.load.length} samples, ` +
        `end ${last.loadavg.map(v => v.toFixed(2)).join('/')}`
      : '-'
  return [
    `mode ${results.mode}, ${results.startedAt}, ${Math.round(results.durationS)} s`,
    `${m.cores} cores (${m.cpuModel}), ${formatBytes(m.totalMemoryBytes)} RAM, Node ${m.node}, ${m.platform}`,
    `bullmq ${m.versions.bullmq}, ioredis ${m.versions.ioredis}, fastify ${m.versions.fastify}, ` +
      `axios ${m.versions.axios}, autocannon ${m.versions.autocannon}, redis-server ${m.versions.redisServer}`,
    results.redis === undefined
      ? 'no redis-server (only in-process sections ran)'
      : `private redis-server, no persistence, settings of infra/redis/redis.conf: ${
          Object.entries(results.redis.settings)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || '(none)'
        }`,
    ...(results.appsFrom === undefined ? [] : [`apps measured: ${results.appsFrom}`]),
    `load average: ${load}`,
  ]
}

function ingestTable(results: BenchResults): Table | undefined {
  const s = results.ingest
  if (!s) return undefined
  const rows: string[][] = []
  const notes: string[] = []
  for (const [name, c] of [
    ['/v1/batch', s.batch],
    ['/v1/track', s.track],
  ] as const) {
    const http = (label: string, run: HttpRun, vsAddBulk: boolean): string[] => [
      `${name} ${label}`,
      formatCount(run.eventsPerSec),
      formatCount(run.requestsPerSec),
      formatMs(run.latencyP50Ms),
      formatMs(run.latencyP99Ms),
      formatCount(run.cpuUsPerEvent.process),
      formatCount(run.cpuUsPerEvent.redis),
      vsAddBulk ? formatRatio(ratio(run.eventsPerSec, c.bareAddBulk.eventsPerSec)) : '',
      formatRatio(ratio(run.requestsPerSec, c.bareFastify.requestsPerSec)),
    ]
    rows.push(http('ingest', c.ingest, true))
    rows.push(http('bare Fastify', c.bareFastify, false))
    const bulk = c.bareAddBulk
    rows.push([
      `${name} bare addBulk`,
      formatCount(bulk.eventsPerSec),
      formatCount(bulk.eventsPerSec / bulk.eventsPerCall),
      formatMs(bulk.latencyP50Ms),
      formatMs(bulk.latencyP99Ms),
      formatCount(bulk.cpuUsPerEvent.process),
      formatCount(bulk.cpuUsPerEvent.redis),
      '100%',
      '',
    ])
    notes.push(
      `${name} events/s by round (median shown): ingest ${c.ingestRounds.map(formatCount).join(' / ')}, ` +
        `bare addBulk ${c.bareAddBulkRounds.map(formatCount).join(' / ')}`,
    )
    for (const run of [c.ingest, c.bareFastify]) {
      if (run.non2xx + run.errors > 0)
        notes.push(`${name} ${run.target}: ${run.non2xx} non-2xx answers, ${run.errors} errors`)
    }
  }
  return {
    title:
      `Ingest (${s.connections} connections / parallel loops, events of ${s.eventBytes} B, ` +
      `batches of ${formatBytes(s.batchBodyBytes)}, LOG_LEVEL=${s.logLevel})`,
    columns: [
      'run',
      'events/s',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/ev',
      'Redis µs/ev',
      'vs addBulk',
      'vs Fastify',
    ],
    rows,
    notes: [
      'vs addBulk: events/s over the bare BullMQ addBulk loop (the Redis ceiling); vs Fastify: requests/s over a ' +
        'bare Fastify route that parses the body and answers 200 (the HTTP ceiling). CPU µs/ev: CPU time of the ' +
        'process (ingest, Fastify or addBulk loop) and of Redis per event.',
      ...notes,
      `peak RSS: ingest ${formatBytes(s.peakRssBytes.ingest)}, bare Fastify ${formatBytes(s.peakRssBytes.bareFastify)}, ` +
        `bare addBulk ${formatBytes(s.peakRssBytes.bareAddBulk)}`,
    ],
  }
}

function workerTable(results: BenchResults): Table | undefined {
  const s = results.worker
  if (!s || s.runs.length === 0) return undefined
  const keys = [...new Set(s.runs.map(r => `${r.latencyMs}:${r.concurrency}`))]
  const rows = keys.map(key => {
    const [latencyMs = 0, concurrency = 0] = key.split(':').map(Number)
    const ucd = pickRun(s.runs, 'ucd', latencyMs, concurrency)
    const bare = pickRun(s.runs, 'bare', latencyMs, concurrency)
    const ideal = ucd?.idealEventsPerSec ?? bare?.idealEventsPerSec
    return [
      `${latencyMs} ms`,
      String(concurrency),
      formatCount(ucd?.eventsPerSec),
      formatCount(bare?.eventsPerSec),
      formatRatio(ratio(ucd?.eventsPerSec, bare?.eventsPerSec)),
      formatCount(ideal),
      formatRatio(ratio(ucd?.eventsPerSec, ideal)),
      formatRatio(ratio(bare?.eventsPerSec, ideal)),
      formatCount(ucd?.workerCpuUsPerEvent),
      formatCount(bare?.workerCpuUsPerEvent),
      formatBytes(ucd?.peakRssBytes),
      formatBytes(bare?.peakRssBytes),
    ]
  })
  return {
    title:
      `Worker, one process (tracks of ${s.eventBytes} B for ${s.users} users, identity cache warm, ` +
      `LOG_LEVEL=${s.logLevel}${s.rounds > 1 ? `, median of ${s.rounds} rounds` : ''})`,
    columns: [
      'latency',
      'concurrency',
      'ucd ev/s',
      'bare ev/s',
      'ucd/bare',
      'ideal ev/s',
      'ucd/ideal',
      'bare/ideal',
      'ucd CPU µs/ev',
      'bare CPU µs/ev',
      'ucd RSS',
      'bare RSS',
    ],
    rows,
    notes: [
      'ucd/bare: our worker over a bare BullMQ worker doing one axios POST /events/ per job; ' +
        'ideal: concurrency / latency (every slot always waiting on the simulator, nothing else costing time); ' +
        'CPU µs/ev: CPU time of the worker process per delivered event.',
    ],
  }
}

function scaleTable(results: BenchResults): Table | undefined {
  const runs = results.worker?.scaleOut ?? []
  if (runs.length === 0) return undefined
  const first = runs[0]
  const counts = [...new Set(runs.map(r => r.processes))].sort((a, b) => a - b)
  const pick = (processes: number): DrainRun | undefined =>
    pickRun(runs, 'ucd', first?.latencyMs ?? 50, first?.concurrency ?? 50, processes)
  const one = pick(1)
  return {
    title: `Scale-out (${first?.latencyMs ?? 50} ms simulator latency, concurrency ${first?.concurrency ?? '-'} per process)`,
    columns: [
      'processes',
      'ev/s',
      'ideal ev/s',
      'of ideal',
      'vs 1 process',
      'CPU µs/ev',
      'peak RSS (largest)',
    ],
    rows: counts.map(processes => {
      const r = pick(processes)
      return [
        String(processes),
        formatCount(r?.eventsPerSec),
        formatCount(r?.idealEventsPerSec),
        formatRatio(ratio(r?.eventsPerSec, r?.idealEventsPerSec)),
        one && r ? `${(r.eventsPerSec / one.eventsPerSec).toFixed(2)}x` : '-',
        formatCount(r?.workerCpuUsPerEvent),
        formatBytes(r?.peakRssBytes),
      ]
    }),
  }
}

function memoryTable(results: BenchResults): Table | undefined {
  const s = results.memory
  if (!s) return undefined
  const row = (name: string, item: MemoryItem): string[] => [
    name,
    formatCount(item.items),
    formatBytes(item.usedMemoryDeltaBytes),
    formatBytes(item.streamBytes),
    formatCount(item.bytesPerItem),
    formatCount(item.bytesPerItemExcludingStreams),
  ]
  return {
    title: `Redis memory (events of ${s.eventBytes} B as sent, ${s.jobDataBytes} B of job data as stored)`,
    columns: ['item', 'count', 'Δ used_memory', 'of it streams', 'bytes/item', 'bytes/item w/o streams'],
    rows: [
      row('waiting event', s.waitingEvent),
      row('dedupe marker', s.dedupeMarker),
      row('DLQ record', s.dlqRecord),
    ],
    notes: [
      'streams: BullMQ event streams, trimmed to about 10 000 entries per queue, so a fixed cost, not per item.',
    ],
  }
}

function fuzzTable(results: BenchResults): Table | undefined {
  const s = results.fuzz
  if (!s) return undefined
  const row = (label: string, c: FuzzCaseResult): string[] => [
    label,
    `${c.charClass} in ${c.field}`,
    formatCount(c.runLength),
    formatBytes(c.eventBytes),
    formatMs(c.normalizeMs),
    c.valid ? formatMs(c.planMs) : 'refused',
  ]
  return {
    title:
      `Fuzz: hostile strings, in process (${s.cases} events up to ${formatBytes(s.maxEventBytes)}, ` +
      `median CPU time of ${s.repetitions} calls each)`,
    columns: ['case', 'run', 'length', 'event', 'normalizeEvent ms', 'planEvent ms'],
    rows: [
      row('worst normalizeEvent', s.worstNormalize),
      row('worst planEvent', s.worstPlan),
      ...s.slowest.map((c, i) => row(`slowest #${i + 1}`, c)),
    ],
    notes: [
      `median over all cases: normalizeEvent ${formatMs(s.medianNormalizeMs)} ms, planEvent ${formatMs(s.medianPlanMs)} ms; ` +
        `${s.validEvents} of ${s.cases} events valid (refused ones are not planned)`,
    ],
  }
}

function targetsTable(targets: readonly TargetCheck[]): Table {
  const value = (t: TargetCheck, v: number | undefined): string =>
    t.unit === 'ratio'
      ? formatRatio(v)
      : t.unit === 'ms'
        ? `${formatMs(v)} ms`
        : v === undefined
          ? '-'
          : formatBytes(v)
  return {
    title: 'Targets',
    columns: ['target', 'measured', 'limit', 'result'],
    rows: targets.map(t => [
      t.description,
      value(t, t.measured),
      `${t.comparison} ${value(t, t.limit)}`,
      t.status,
    ]),
  }
}

function clusterTable(results: BenchResults): Table | undefined {
  const s = results.cluster
  if (s === undefined) return undefined
  const [one, six] = s.summary
  const ratio = (a?: number, b?: number): string => (a && b ? `${(b / a).toFixed(2)}x` : '-')
  return {
    title:
      'Redis Cluster (issue 19): 1 shard on one node vs 6 shards on a local 3-master cluster, same machine',
    columns: ['layout', 'enqueue events/s', 'worker events/s'],
    rows: s.summary.map(l => [l.layout, String(l.enqueuePerSec), String(l.workerPerSec)]),
    notes: [
      `6 shards / 1 shard: enqueue ${ratio(one?.enqueuePerSec, six?.enqueuePerSec)}, worker ${ratio(one?.workerPerSec, six?.workerPerSec)}; ` +
        `DBSIZE per master at the end: ${s.dbSizes.join(' / ')}`,
      `enqueue: ${s.loops} loops of addBulk(${s.bulk}) split per shard; worker: 1 process, concurrency ${s.concurrency} split over the shards`,
      'all 3 masters, the single node, the worker and the simulator share this machine: see the bench README for what that means',
    ],
  }
}

export function reportTables(results: BenchResults): Table[] {
  return [
    ingestTable(results),
    lingerTable(results.linger),
    workerTable(results),
    scaleTable(results),
    memoryTable(results),
    fuzzTable(results),
    consistencyTable(results.consistency),
    clusterTable(results),
    targetsTable(results.targets),
  ].filter((t): t is Table => t !== undefined)
}

/** The whole report as terminal text. */
export function renderReport(results: BenchResults): string {
  const parts = [machineLines(results).join('\n'), ...reportTables(results).map(renderTable)]
  if (results.notes.length > 0) parts.push(['Notes', ...results.notes.map(n => `- ${n}`)].join('\n'))
  return `${parts.join('\n\n')}\n`
}

/** The same report as markdown (for the README). */
export function renderMarkdownReport(results: BenchResults): string {
  const parts = [
    machineLines(results)
      .map(l => `${l}  `)
      .join('\n'),
    ...reportTables(results).map(renderMarkdownTable),
  ]
  if (results.notes.length > 0) parts.push(['Notes:', '', ...results.notes.map(n => `- ${n}`)].join('\n'))
  return `${parts.join('\n\n')}\n`
}
