/**
 * Every error the ingest answers with, in one table (like Fastify's own `lib/errors.js`): its stable
 * `code` (also the `code` of the JSON error body), the HTTP status and the message, a template where
 * the message takes values. The error classes below are derived from it; code elsewhere names a code
 * of this table (type-checked), never a status or a message. Messages never contain the request body
 * or a write key. The README's "Error codes" table lists the same rows (a test compares them).
 */
export const INGEST_ERRORS = {
  UCD_ERR_INVALID_EVENT: {
    statusCode: 400,
    message: (received: number) =>
      received === 1 ? 'The event is invalid' : 'Every event in the batch is invalid',
  },
  UCD_ERR_INVALID_JSON: {
    statusCode: 400,
    message: (position?: number) =>
      `The body is not valid JSON${position === undefined ? '' : ` (at character ${position})`}`,
  },
  UCD_ERR_EMPTY_BODY: { statusCode: 400, message: 'The body is empty' },
  UCD_ERR_INVALID_BATCH: {
    statusCode: 400,
    message: (problems: string) => `The body must be {"batch": [events]}: ${problems}`,
  },
  UCD_ERR_EMPTY_BATCH: {
    statusCode: 400,
    message: (what: 'batch' | 'array of events') => `The ${what} is empty`,
  },
  /** More items than INGEST_MAX_BATCH_ITEMS (default 2,500) in a batch or webhook array. */
  UCD_ERR_TOO_MANY_ITEMS: {
    statusCode: 400,
    message: (max: number, received: number) =>
      `A batch may hold at most ${max} events; this one has ${received}: split it`,
  },
  UCD_ERR_TOO_DEEP: {
    statusCode: 400,
    message: (maxDepth: number) => `Objects and arrays may nest at most ${maxDepth} levels deep`,
  },
  UCD_ERR_ABORTED: { statusCode: 400, message: 'The request body could not be read to its end' },
  /** The normaliser threw on hostile input (it must not): that input is the problem. */
  UCD_ERR_UNPROCESSABLE: { statusCode: 400, message: 'The body could not be processed' },
  /** Over 32 KB for a single-event request or 500 KB for a batch, decompressed. Segment answers 400 too. */
  UCD_ERR_PAYLOAD_TOO_LARGE: {
    statusCode: 400,
    message: (limitBytes: number, what: string) =>
      `Exceed payload limit: ${what} may be at most ${limitBytes} bytes (${Math.round(limitBytes / 1024)} KB) of JSON, after decompression`,
  },
  UCD_ERR_INVALID_GZIP: {
    statusCode: 400,
    message: 'Content-Encoding says gzip, but the body is not a valid gzip stream',
  },
  /** A client error Fastify found itself, when it carries no code of its own. */
  UCD_ERR_BAD_REQUEST: { statusCode: 400, message: (detail = 'Bad request') => detail },
  UCD_ERR_MISSING_WRITE_KEY: {
    statusCode: 401,
    message:
      'No write key: send it as the username of HTTP Basic auth (Authorization: Basic base64("<writeKey>:")) or as "writeKey" in the body',
  },
  UCD_ERR_INVALID_WRITE_KEY: { statusCode: 401, message: 'Unknown write key' },
  UCD_ERR_MISSING_SIGNATURE: {
    statusCode: 401,
    message:
      "No X-Signature: this tenant's webhook requests must be signed with its Segment Webhooks shared secret",
  },
  UCD_ERR_INVALID_SIGNATURE: { statusCode: 401, message: 'X-Signature does not match the body' },
  UCD_ERR_NOT_FOUND: {
    statusCode: 404,
    message: (method: string, path: string) => `No route ${method} ${path}`.slice(0, 200),
  },
  UCD_ERR_UNSUPPORTED_ENCODING: {
    statusCode: 415,
    message: 'Content-Encoding must be gzip, x-gzip, identity or absent',
  },
  UCD_ERR_INTERNAL: { statusCode: 500, message: 'Internal error' },
  /** Redis did not acknowledge (down, slow, or not connected yet): the client should retry. */
  UCD_ERR_UNAVAILABLE: {
    statusCode: 503,
    message: (cause: 'down' | 'timeout' | 'full' = 'down') =>
      cause === 'timeout'
        ? 'Redis did not acknowledge in time; nothing was accepted, retry later'
        : cause === 'full'
          ? 'The event store (Redis) is full (at or near maxmemory); nothing was accepted, retry later'
          : 'The event store (Redis) is unavailable; nothing was accepted, retry later',
  },
} as const satisfies Record<`UCD_ERR_${string}`, ErrorSpec>

interface ErrorSpec {
  readonly statusCode: number
  readonly message: string | ((...values: never[]) => string)
}

export type IngestErrorCode = keyof typeof INGEST_ERRORS
type SpecOf<C extends IngestErrorCode> = (typeof INGEST_ERRORS)[C]
/** What the message template of `C` takes (nothing for a fixed message). */
export type MessageArgs<C extends IngestErrorCode> = SpecOf<C>['message'] extends (
  ...values: infer A
) => string
  ? A
  : []
/** The codes answered with HTTP status `S`. */
type CodeWithStatus<S extends number> = {
  [C in IngestErrorCode]: SpecOf<C>['statusCode'] extends S ? C : never
}[IngestErrorCode]

/** The message of `code` with the values its template takes. */
export function errorMessage<C extends IngestErrorCode>(code: C, ...values: MessageArgs<C>): string {
  const message: ErrorSpec['message'] = INGEST_ERRORS[code].message
  // The table's `satisfies` ties each template to its MessageArgs; TS cannot follow that through C.
  return typeof message === 'string' ? message : (message as (...v: unknown[]) => string)(...values)
}

/** An error the ingest answers with: a code of INGEST_ERRORS, its status and its message. */
export class IngestHttpError<C extends IngestErrorCode = IngestErrorCode> extends Error {
  readonly code: C
  readonly statusCode: number
  constructor(code: C, ...values: MessageArgs<C>) {
    super(errorMessage(code, ...values))
    this.name = 'IngestHttpError'
    this.code = code
    this.statusCode = INGEST_ERRORS[code].statusCode
    Object.setPrototypeOf(this, new.target.prototype)
  }

  /** The JSON error body: `{ success: false, code, message, ...extra }`. */
  body(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { success: false, code: this.code, message: this.message, ...extra }
  }
}

/** A request that cannot be used at all (400): empty, not JSON, not a batch, too deep, invalid, ... */
export class InvalidRequestError<
  C extends CodeWithStatus<400> = CodeWithStatus<400>,
> extends IngestHttpError<C> {
  override name = 'InvalidRequestError'
}

/** No write key, an unknown one, or a webhook signature missing or wrong (401). */
export class UnauthorizedError<
  C extends CodeWithStatus<401> = CodeWithStatus<401>,
> extends IngestHttpError<C> {
  override name = 'UnauthorizedError'
}

/** A class for one code of the table, constructed with its message values only. */
function errorClass<C extends IngestErrorCode>(code: C, name: string) {
  return class extends IngestHttpError<C> {
    constructor(...values: MessageArgs<C>) {
      super(code, ...values)
      this.name = name
    }
  }
}

export const PayloadTooLargeError = errorClass('UCD_ERR_PAYLOAD_TOO_LARGE', 'PayloadTooLargeError')
export type PayloadTooLargeError = InstanceType<typeof PayloadTooLargeError>
export const InvalidJsonError = errorClass('UCD_ERR_INVALID_JSON', 'InvalidJsonError')
export type InvalidJsonError = InstanceType<typeof InvalidJsonError>
export const InvalidGzipError = errorClass('UCD_ERR_INVALID_GZIP', 'InvalidGzipError')
export type InvalidGzipError = InstanceType<typeof InvalidGzipError>
export const UnsupportedEncodingError = errorClass('UCD_ERR_UNSUPPORTED_ENCODING', 'UnsupportedEncodingError')
export type UnsupportedEncodingError = InstanceType<typeof UnsupportedEncodingError>
export const UnavailableError = errorClass('UCD_ERR_UNAVAILABLE', 'UnavailableError')
export type UnavailableError = InstanceType<typeof UnavailableError>
