import { describe, expect, it } from '@jest/globals'
import type { FastifyBaseLogger } from 'fastify'
import { RequestLogger, requestLoggerFactory } from '../request-logger'
import { memoryLogger } from './helpers'

// The per-request logger writes the lines a pino child would, without making one per request.

const parsed = (lines: string[]): Array<Record<string, unknown>> =>
  lines.map(line => JSON.parse(line) as Record<string, unknown>)

describe('RequestLogger', () => {
  it('writes the bindings (and those bound later) on every line, as a child would', () => {
    const { logger, lines } = memoryLogger()
    const log = requestLoggerFactory(logger, { requestId: 'r1' }, {})
    log.info({ status: 200 }, 'request completed')
    expect(log).toBeInstanceOf(RequestLogger)
    ;(log as RequestLogger).bind({ tenantId: 'acme' })
    log.warn({ a: 1 }, 'with tenant')
    log.error('a message only')
    log.error(new Error('boom'))
    log.info({ b: 2 }, 'after the child was made')
    const [first, second, third, fourth, fifth] = parsed(lines)
    expect(first).toMatchObject({ requestId: 'r1', status: 200, msg: 'request completed', level: 30 })
    expect(first).not.toHaveProperty('tenantId')
    expect(second).toMatchObject({ requestId: 'r1', tenantId: 'acme', a: 1, msg: 'with tenant', level: 40 })
    expect(third).toMatchObject({ requestId: 'r1', tenantId: 'acme', msg: 'a message only', level: 50 })
    expect(fourth).toMatchObject({ requestId: 'r1', tenantId: 'acme', level: 50 })
    expect(JSON.stringify(fourth)).toContain('boom')
    expect(fifth).toMatchObject({ requestId: 'r1', tenantId: 'acme', b: 2, msg: 'after the child was made' })
    expect(lines).toHaveLength(5)
  })

  it('keeps the parent level, makes children with merged bindings, and scrubs like the logger', () => {
    const { logger, lines } = memoryLogger(['s3cret-value'])
    const log: FastifyBaseLogger = requestLoggerFactory(logger, { requestId: 'r2' }, {})
    expect(log.level).toBe('info')
    log.debug({ hidden: true }, 'below the level')
    log.child({ jobId: 'j' }).info({ token: 'x', note: 'has s3cret-value inside' }, 'child line')
    const [line] = parsed(lines)
    expect(lines).toHaveLength(1)
    expect(line).toMatchObject({ requestId: 'r2', jobId: 'j', token: '[Redacted]', msg: 'child line' })
    expect(JSON.stringify(line)).not.toContain('s3cret-value')
  })
})
