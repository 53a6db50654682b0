import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { gunzip } from 'node:zlib'
import { parse as secureParse } from 'secure-json-parse'
import {
  InvalidGzipError,
  InvalidJsonError,
  InvalidRequestError,
  PayloadTooLargeError,
  UnsupportedEncodingError,
} from './errors'

/** How deep objects and arrays may nest in one request; no Segment client comes close. */
export const MAX_JSON_DEPTH = 64

/** A gzip body may be a little larger than the JSON it holds (incompressible text). */
const GZIP_SLACK_BYTES = 4096

export type ContentEncoding = 'identity' | 'gzip'

export interface BodyLimit {
  /** Most bytes of (decompressed) JSON. */
  maxBytes: number
  /** Says what the limit is for, in the error: "a single-event request", "a batch request". */
  what: string
}

export interface ParsedBody {
  json: unknown
  /** Size of the (decompressed) JSON text. */
  bytes: number
  /** The (decompressed) JSON bytes, for signature checks. */
  source: Buffer
  encoding: ContentEncoding
}

/** `gzip` / `x-gzip` / `identity` / absent, case-insensitive; anything else is a 415. */
export function contentEncoding(headers: IncomingHttpHeaders): ContentEncoding {
  const raw = headers['content-encoding']
  if (raw === undefined) return 'identity'
  const codings = raw
    .split(',')
    .map(c => c.trim().toLowerCase())
    .filter(c => c !== '' && c !== 'identity')
  if (codings.length === 0) return 'identity'
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip'
  throw new UnsupportedEncodingError()
}

/** Reads at most `maxBytes` from the stream; more is a PayloadTooLargeError (the rest is left unread). */
export function readStream(stream: Readable, maxBytes: number, limit: BodyLimit): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let settled = false
    const finish = (error: Error | undefined, value?: Buffer): void => {
      if (settled) return
      settled = true
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
      if (error) reject(error)
      else resolve(value ?? Buffer.alloc(0))
    }
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      total += buffer.length
      if (total > maxBytes) {
        // Stop reading. Node discards the rest of the body once the response is sent.
        finish(new PayloadTooLargeError(limit.maxBytes, limit.what))
        return
      }
      chunks.push(buffer)
    }
    const onEnd = (): void => finish(undefined, Buffer.concat(chunks, total))
    // The client went away mid-body (reset, or closed before the end): a client error, not ours.
    const aborted = (): void => finish(new InvalidRequestError('UCD_ERR_ABORTED'))
    const onError = aborted
    const onClose = aborted
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('close', onClose)
  })
}

function gunzipCapped(input: Buffer, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(input, { maxOutputLength: maxBytes + 1 }, (error, output) => {
      if (error) reject(error)
      else resolve(output)
    })
  })
}

/** Decompresses (capped: a gzip bomb stops at the limit) and checks the size of the JSON text. */
export async function decodeBody(raw: Buffer, encoding: ContentEncoding, limit: BodyLimit): Promise<Buffer> {
  let text = raw
  if (encoding === 'gzip') {
    try {
      text = await gunzipCapped(raw, limit.maxBytes)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        throw new PayloadTooLargeError(limit.maxBytes, limit.what)
      }
      throw new InvalidGzipError()
    }
  }
  if (text.length > limit.maxBytes) throw new PayloadTooLargeError(limit.maxBytes, limit.what)
  return text
}

/**
 * JSON.parse that never pollutes prototypes: `__proto__` keys and `constructor.prototype` are
 * removed (secure-json-parse). Error messages carry the position only, never text of the body
 * (V8 quotes the text around the error, and it may hold a write key).
 */
export function parseJson(text: Buffer): unknown {
  let source = text.toString('utf8')
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1)
  if (source.trim() === '') throw new InvalidRequestError('UCD_ERR_EMPTY_BODY')
  try {
    return secureParse(source, undefined, { protoAction: 'remove', constructorAction: 'remove' })
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1]
    throw new InvalidJsonError(position === undefined ? undefined : Number(position))
  }
}

/** True when objects/arrays nest deeper than `maxDepth`. Iterative: hostile depth cannot blow the stack. */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  // Two parallel stacks and for...in: no tuple or Object.values array per node (this walks every
  // value of every request).
  const nodes: object[] = []
  const depths: number[] = []
  if (value !== null && typeof value === 'object') {
    nodes.push(value)
    depths.push(1)
  }
  const visit = (child: unknown, depth: number): void => {
    if (child !== null && typeof child === 'object') {
      nodes.push(child)
      depths.push(depth)
    }
  }
  while (nodes.length > 0) {
    const node = nodes.pop()
    const depth = depths.pop() ?? 0
    if (depth > maxDepth) return true
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i += 1) visit(node[i], depth + 1)
    } else {
      const record = node as Record<string, unknown>
      for (const key in record) {
        if (Object.prototype.hasOwnProperty.call(record, key)) visit(record[key], depth + 1)
      }
    }
  }
  return false
}

/** Reads, decompresses, size-checks and parses one request body. */
export async function readJsonBody(
  stream: Readable,
  headers: IncomingHttpHeaders,
  limit: BodyLimit,
): Promise<ParsedBody> {
  const encoding = contentEncoding(headers)
  const maxRaw = encoding === 'gzip' ? limit.maxBytes + GZIP_SLACK_BYTES : limit.maxBytes
  const declared = Number(headers['content-length'])
  if (Number.isFinite(declared) && declared > maxRaw)
    throw new PayloadTooLargeError(limit.maxBytes, limit.what)
  const raw = await readStream(stream, maxRaw, limit)
  const text = await decodeBody(raw, encoding, limit)
  const json = parseJson(text)
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) {
    throw new InvalidRequestError('UCD_ERR_TOO_DEEP', MAX_JSON_DEPTH)
  }
  return { json, bytes: text.length, source: text, encoding }
}
