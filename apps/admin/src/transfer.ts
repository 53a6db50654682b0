import type { EventEmitter } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { DEAD_LETTER_JOB_ID_PATTERN, DeadLetterRecordSchema, type DeadLetterRecord } from '@ucd/queue'
import { z } from 'zod'
import { FileError, ImportIncompleteError, type LineProblem } from './errors'
import { writeOut, type Output } from './output'
import { selectEntries, type AdminQueues, type AdminShard, type DlqEntry, type Selection } from './store'

/**
 * A dead-letter job id as the worker writes them, `<source job id>-r<replays>`: never an integer
 * (BullMQ refuses those), no ":" (Redis key separator), and never one of BullMQ's own key names under
 * the queue prefix (`wait`, `meta`, `events`, ...), which an import must not overwrite.
 */
export const DlqJobIdSchema = z
  .string()
  .min(1)
  .max(512)
  .refine(id => !id.includes(':'), { message: 'a job id cannot contain ":"' })
  .refine(id => DEAD_LETTER_JOB_ID_PATTERN.test(id), {
    message: 'a dead-letter id ends in -r<replays>, as the worker writes them (e.g. acme-Xb3k...-r0)',
  })

/** One NDJSON line of `dlq export` / `dlq import`: the DLQ job id and the record. */
export const ExportLineSchema = z.object({
  id: DlqJobIdSchema,
  // loose(): fields a newer worker may add survive an export/import round trip.
  record: DeadLetterRecordSchema.loose(),
})
export type ExportLine = z.infer<typeof ExportLineSchema>

export function exportLine(id: string, record: DeadLetterRecord): string {
  return `${JSON.stringify({ id, record })}\n`
}

export interface ExportResult {
  exported: number
  /** Jobs whose data is not a valid record: left out (they could not be imported back). */
  invalid: { id: string; problem: string }[]
}

export async function exportRecords(
  queues: AdminQueues,
  selection: Selection,
  out: Output,
): Promise<ExportResult> {
  const result: ExportResult = { exported: 0, invalid: [] }
  const onInvalid = (entry: DlqEntry & { problem: string }): void => {
    result.invalid.push({ id: entry.id, problem: entry.problem })
  }
  for await (const entry of selectEntries(queues, selection, { onInvalid })) {
    await writeOut(out, exportLine(entry.id, entry.record))
    result.exported += 1
  }
  return result
}

export interface ParsedImport {
  items: { line: number; id: string; record: DeadLetterRecord }[]
  problems: LineProblem[]
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map(issue => `${issue.path.join('.') || '(line)'}: ${issue.message}`)
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : ''
  return shown.join('; ') + more
}

/** Waits until `stream` has opened `path`; failing that, a FileError naming the file and why. */
async function whenOpen(stream: EventEmitter, path: string, verb: 'read' | 'write'): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve())
      stream.once('error', reject)
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? `${verb} error`
    throw new FileError(`cannot ${verb} ${path} (${code})`)
  }
}

/**
 * `exportRecords` into the file `target`, written beside it and renamed at the end: a failed export
 * leaves no half file behind.
 */
export async function exportToFile(
  queues: AdminQueues,
  selection: Selection,
  target: string,
): Promise<ExportResult> {
  const temp = `${target}.${process.pid}.tmp`
  const file = createWriteStream(temp, { encoding: 'utf8' })
  await whenOpen(file, target, 'write')
  try {
    const result = await exportRecords(queues, selection, file)
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

/** Reads and validates every line of an NDJSON export (blank lines are ignored). */
export async function parseImportFile(path: string): Promise<ParsedImport> {
  const parsed: ParsedImport = { items: [], problems: [] }
  const firstLineOf = new Map<string, number>()
  const stream = createReadStream(path, { encoding: 'utf8' })
  await whenOpen(stream, path, 'read')
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let line = 0
  for await (const text of lines) {
    line += 1
    if (text.trim() === '') continue
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      parsed.problems.push({ line, message: `not JSON (${(error as Error).message})` })
      continue
    }
    const result = ExportLineSchema.safeParse(json)
    if (!result.success) {
      parsed.problems.push({ line, message: describeIssues(result.error.issues) })
      continue
    }
    const first = firstLineOf.get(result.data.id)
    if (first !== undefined) {
      parsed.problems.push({ line, message: `id "${result.data.id}" is already on line ${first}` })
      continue
    }
    firstLineOf.set(result.data.id, line)
    parsed.items.push({ line, id: result.data.id, record: result.data.record })
  }
  return parsed
}

export interface ImportResult {
  imported: number
  /** Ids already in the DLQ: left as they are (so importing a file twice changes nothing). */
  alreadyPresent: string[]
}

/** Records added per addBulk. */
const IMPORT_CHUNK = 1000

/**
 * Adds validated records under their original ids, in chunks; ids already in the DLQ are left alone.
 * BullMQ's addBulk is a pipeline, not a transaction, so a Redis failure part-way leaves some records
 * in: that is an ImportIncompleteError saying how many, and the same import run again completes it.
 */
export async function importRecords(
  queues: AdminQueues,
  items: ParsedImport['items'],
  options: { dryRun: boolean; file: string },
): Promise<ImportResult> {
  // Each record goes to the DLQ shard of its event (where the worker would have put it); a pipeline
  // keeps to one shard, so to one slot of a Redis Cluster.
  const byShard = new Map<AdminShard, ParsedImport['items']>()
  for (const item of items) {
    const shard = queues.shardFor(item.record.tenantId, item.record.event)
    byShard.set(shard, [...(byShard.get(shard) ?? []), item])
  }
  const present = new Set<string>()
  const fresh: { shard: AdminShard; item: ParsedImport['items'][number] }[] = []
  for (const [shard, shardItems] of byShard) {
    for (let i = 0; i < shardItems.length; i += IMPORT_CHUNK) {
      const slice = shardItems.slice(i, i + IMPORT_CHUNK)
      const pipeline = queues.connection.pipeline()
      for (const item of slice) pipeline.exists(shard.deadLetter.toKey(item.id))
      const replies = (await pipeline.exec()) ?? []
      replies.forEach(([error, count], k) => {
        if (error) throw error
        if (count === 1) present.add(slice[k]!.id)
        else fresh.push({ shard, item: slice[k]! })
      })
    }
  }
  const alreadyPresent = items.filter(item => present.has(item.id)).map(item => item.id)
  if (!options.dryRun) {
    let done = 0
    for (const [shard] of byShard) {
      const shardFresh = fresh.filter(f => f.shard === shard).map(f => f.item)
      for (let i = 0; i < shardFresh.length; i += IMPORT_CHUNK) {
        const chunk = shardFresh.slice(i, i + IMPORT_CHUNK)
        try {
          await shard.deadLetter.addBulk(
            chunk.map(item => ({ name: item.record.reason, data: item.record, opts: { jobId: item.id } })),
          )
        } catch (error) {
          const cause = error instanceof Error ? error.message : String(error)
          throw new ImportIncompleteError(options.file, done, fresh.length, cause)
        }
        done += chunk.length
      }
    }
  }
  return { imported: fresh.length, alreadyPresent }
}
