/** Process exit codes of the admin CLI. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** Base of every error the CLI reports itself: a stable `code` and the exit code it maps to. */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message)
    this.name = 'AdminError'
    Object.setPrototypeOf(this, new.target.prototype)
  }
}

/** A bad flag, a bad filter value, a missing selector or confirmation: exit 2. */
export class UsageError extends AdminError {
  constructor(message: string) {
    super('UCD_ERR_USAGE', message, EXIT_USAGE)
    this.name = 'UsageError'
  }
}

/** Redis did not answer in time (or refused the credentials). */
export class RedisUnreachableError extends AdminError {
  constructor(message: string) {
    super('UCD_ERR_REDIS_UNREACHABLE', message)
    this.name = 'RedisUnreachableError'
  }
}

/** A dead-letter id that is not in the DLQ. */
export class UnknownIdError extends AdminError {
  constructor(readonly ids: readonly string[]) {
    super(
      'UCD_ERR_UNKNOWN_ID',
      `${ids.length === 1 ? 'No dead-letter record has the id' : 'No dead-letter records have the ids'} ` +
        `${ids.map(id => `"${id}"`).join(', ')}. List the ids with: pnpm admin dlq list`,
    )
    this.name = 'UnknownIdError'
  }
}

/** One bad line of an NDJSON import file. */
export interface LineProblem {
  line: number
  message: string
}

/** An import file with bad lines: nothing was imported. */
export class ImportFileError extends AdminError {
  constructor(
    readonly file: string,
    readonly problems: readonly LineProblem[],
  ) {
    super(
      'UCD_ERR_IMPORT_INVALID',
      `${file}: ${problems.length} bad ${problems.length === 1 ? 'line' : 'lines'}; nothing was imported`,
    )
    this.name = 'ImportFileError'
  }
}

/** A file that cannot be read or written. */
export class FileError extends AdminError {
  constructor(message: string) {
    super('UCD_ERR_FILE', message)
    this.name = 'FileError'
  }
}

/** Redis failed part-way through an import: some records are in, and running it again completes it. */
export class ImportIncompleteError extends AdminError {
  constructor(file: string, imported: number, total: number, cause: string) {
    super(
      'UCD_ERR_IMPORT_INCOMPLETE',
      `${file}: Redis failed after ${imported} of ${total} records were imported (${cause}). ` +
        'Run the same import again: records already in the DLQ are skipped, so it completes it.',
    )
    this.name = 'ImportIncompleteError'
  }
}
