import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import {
  errorMessage,
  INGEST_ERRORS,
  IngestHttpError,
  InvalidRequestError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnavailableError,
  type IngestErrorCode,
} from '../errors'

const SRC = join(__dirname, '..')
const codes = Object.keys(INGEST_ERRORS) as IngestErrorCode[]

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === '__tests__' ? [] : sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

describe('the error table', () => {
  it('derives code, status and message of every error from the table', () => {
    const tooLarge = new PayloadTooLargeError(32_768, 'a single-event request')
    expect(tooLarge).toBeInstanceOf(IngestHttpError)
    expect(tooLarge).toMatchObject({ code: 'UCD_ERR_PAYLOAD_TOO_LARGE', statusCode: 400 })
    expect(tooLarge.message).toBe(
      'Exceed payload limit: a single-event request may be at most 32768 bytes (32 KB) of JSON, after decompression',
    )
    const unavailable = new UnavailableError()
    expect(unavailable).toMatchObject({ code: 'UCD_ERR_UNAVAILABLE', statusCode: 503 })
    expect(new UnavailableError('timeout').message).toMatch(/did not acknowledge in time/)
    const unauthorized = new UnauthorizedError('UCD_ERR_INVALID_WRITE_KEY')
    expect(unauthorized).toMatchObject({ statusCode: 401, message: 'Unknown write key' })
    expect(unauthorized.name).toBe('UnauthorizedError')
    const emptyBatch = new InvalidRequestError('UCD_ERR_EMPTY_BATCH', 'array of events')
    expect(emptyBatch.body({ extra: 1 })).toEqual({
      success: false,
      code: 'UCD_ERR_EMPTY_BATCH',
      message: 'The array of events is empty',
      extra: 1,
    })
    expect(new IngestHttpError('UCD_ERR_NOT_FOUND', 'GET', `/${'x'.repeat(300)}`).message).toHaveLength(200)
    expect(errorMessage('UCD_ERR_BAD_REQUEST')).toBe('Bad request')
  })

  it('is the only place a UCD_ERR_ code of the ingest is declared', () => {
    const used = new Set<string>()
    for (const file of sourceFiles(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/UCD_ERR_[A-Z_]+/g)) used.add(match[0])
    }
    expect([...used].filter(code => !(code in INGEST_ERRORS))).toEqual([])
  })

  it('is the README\'s "Error codes" table, row for row', () => {
    const readme = readFileSync(join(SRC, '..', 'README.md'), 'utf8')
    const section = readme.split('\n## Error codes')[1]?.split('\n## ')[0] ?? ''
    const rows = [...section.matchAll(/^\| `(UCD_ERR_[A-Z_]+)` \| `?(\d{3})`? \|/gm)].map(m => [
      m[1],
      Number(m[2]),
    ])
    expect(rows).toEqual(codes.map(code => [code, INGEST_ERRORS[code].statusCode]))
  })
})
