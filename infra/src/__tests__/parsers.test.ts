// The small parsers the infra test relies on: if they misread a file, the invariants mean nothing.
import { describe, expect, it } from '@jest/globals'
import {
  appOfCommand,
  argDefault,
  execForm,
  healthcheckCommand,
  instructionFlags,
  interpolate,
  parseDockerfile,
  parseDuration,
  parseEnvFile,
  parseRedisConf,
  redisSetting,
} from '../index'

describe('parseDockerfile', () => {
  const parsed = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      'ARG NODE_VERSION=20.20',
      'FROM node:${NODE_VERSION}-slim AS build',
      'RUN a \\',
      '  # a comment inside a continued instruction',
      ' && b',
      '',
      'FROM --platform=$BUILDPLATFORM node:20 AS runtime',
      'COPY --from=build --chown=node:node /out /app',
      'HEALTHCHECK --interval=5s CMD ["node", "check.cjs"]',
      'CMD ["node", "apps/ingest/dist/main.js"]',
    ].join('\n'),
  )

  it('splits stages, keeps global ARGs apart and joins continuation lines', () => {
    expect(parsed.globalArgs.map(argDefault)).toEqual([['NODE_VERSION', '20.20']])
    expect(parsed.stages.map(s => [s.name, s.from])).toEqual([
      ['build', 'node:${NODE_VERSION}-slim'],
      ['runtime', 'node:20'],
    ])
    expect(parsed.stages[0]?.instructions).toEqual([{ keyword: 'RUN', args: 'a && b', line: 4 }])
  })

  it('reads flags, exec forms and the HEALTHCHECK command', () => {
    const [copy, healthcheck, cmd] = parsed.stages[1]!.instructions
    expect(instructionFlags(copy!.args)).toEqual({ from: 'build', chown: 'node:node' })
    expect(healthcheckCommand(healthcheck!)).toEqual(['node', 'check.cjs'])
    expect(execForm(cmd!.args)).toEqual(['node', 'apps/ingest/dist/main.js'])
    expect(execForm('node apps/ingest/dist/main.js')).toBeUndefined()
    expect(healthcheckCommand({ keyword: 'HEALTHCHECK', args: 'NONE', line: 1 })).toBeUndefined()
  })
})

describe('parseRedisConf', () => {
  it('lets the last occurrence win and keeps quoted arguments whole', () => {
    const conf = parseRedisConf('# c\nappendonly no\nAPPENDONLY yes\nrequirepass "a b"\n')
    expect(redisSetting(conf, 'appendonly')).toBe('yes')
    expect(redisSetting(conf, 'requirepass')).toBe('a b')
    expect(redisSetting(conf, 'maxmemory-policy')).toBeUndefined()
  })
})

describe('interpolate (Compose)', () => {
  const vars = { SET: 'x', EMPTY: '' }

  it('resolves plain, default and escaped references', () => {
    expect(interpolate('${SET}-$SET-${MISSING}', vars)).toBe('x-x-')
    expect(interpolate('${EMPTY:-d} ${EMPTY-d} ${MISSING-d}', vars)).toBe('d  d')
    expect(interpolate('${MISSING:-${SET}}', vars)).toBe('x')
    expect(interpolate('$$SET', vars)).toBe('$SET')
  })

  it('throws for a required variable that is missing', () => {
    expect(() => interpolate('${MISSING:?set it}', vars)).toThrow('MISSING')
    expect(interpolate('${SET:?set it}', vars)).toBe('x')
  })
})

describe('parseDuration (Compose)', () => {
  it('reads Compose durations in milliseconds', () => {
    expect(parseDuration('40s')).toBe(40_000)
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(() => parseDuration('40')).toThrow('not a duration')
  })
})

describe('parseEnvFile', () => {
  it('reads KEY=value lines, comments and quotes', () => {
    expect(parseEnvFile('# c\nA=1\nexport B="two words"\nC=x # note\n')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x',
    })
    expect(() => parseEnvFile('not a pair')).toThrow('KEY=value')
  })
})

describe('appOfCommand', () => {
  it('names the app of `node apps/<app>/dist/main.js`', () => {
    expect(appOfCommand(['node', 'apps/usercom-sim/dist/main.js'])).toBe('usercom-sim')
    expect(appOfCommand(['node', 'apps/admin/dist/main.js', 'dlq', 'list'])).toBe('admin')
    expect(appOfCommand(['npm', 'start'])).toBeUndefined()
    expect(appOfCommand(['node', 'apps/admin/src/main.ts'])).toBeUndefined()
  })
})
