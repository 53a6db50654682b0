/**
 * Errors the ingest answers with. Each has a stable `code` (also the `code` of the JSON error body)
 * and the HTTP status it is answered with; nothing matches on message text. Messages never contain
 * the request body or a write key.
 */
export class IngestHttpError extends Error {
  readonly statusCode: number
  readonly code: string
  constructor(statusCode: number, code: string, message: string) {
    super(message)
    this.name = 'IngestHttpError'
    this.statusCode = statusCode
    this.code = code
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

/** Over 32 KB for a single-event request or 500 KB for a batch, decompressed. Segment answers 400 too. */
export class PayloadTooLargeError extends IngestHttpError {
  constructor(
    readonly limitBytes: number,
    what: string,
  ) {
    super(
      400,
      'UCD_ERR_PAYLOAD_TOO_LARGE',
      `Exceed payload limit: ${what} may be at most ${limitBytes} bytes (${Math.round(limitBytes / 1024)} KB) of JSON, after decompression`,
    )
    this.name = 'PayloadTooLargeError'
  }
}

export class InvalidJsonError extends IngestHttpError {
  constructor(position?: number) {
    super(
      400,
      'UCD_ERR_INVALID_JSON',
      `The body is not valid JSON${position === undefined ? '' : ` (at character ${position})`}`,
    )
    this.name = 'InvalidJsonError'
  }
}

export class InvalidGzipError extends IngestHttpError {
  constructor() {
    super(400, 'UCD_ERR_INVALID_GZIP', 'Content-Encoding says gzip, but the body is not a valid gzip stream')
    this.name = 'InvalidGzipError'
  }
}

export class UnsupportedEncodingError extends IngestHttpError {
  constructor() {
    super(415, 'UCD_ERR_UNSUPPORTED_ENCODING', 'Content-Encoding must be gzip, x-gzip, identity or absent')
    this.name = 'UnsupportedEncodingError'
  }
}

/** A request that cannot be used at all: empty, not an object, too deeply nested, no batch, ... */
export class InvalidRequestError extends IngestHttpError {
  constructor(code: string, message: string) {
    super(400, code, message)
    this.name = 'InvalidRequestError'
  }
}

export class UnauthorizedError extends IngestHttpError {
  constructor(
    code:
      | 'UCD_ERR_MISSING_WRITE_KEY'
      | 'UCD_ERR_INVALID_WRITE_KEY'
      | 'UCD_ERR_MISSING_SIGNATURE'
      | 'UCD_ERR_INVALID_SIGNATURE',
    message: string,
  ) {
    super(401, code, message)
    this.name = 'UnauthorizedError'
  }
}

/** Redis did not acknowledge in time (down, slow, or not connected yet): the client should retry. */
export class UnavailableError extends IngestHttpError {
  constructor(message = 'The event store (Redis) is unavailable; nothing was accepted, retry later') {
    super(503, 'UCD_ERR_UNAVAILABLE', message)
    this.name = 'UnavailableError'
  }
}
