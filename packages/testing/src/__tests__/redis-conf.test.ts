import { describe, expect, it } from '@jest/globals'
import { readRedisConf } from '../index'

describe('readRedisConf', () => {
  it('reads directives, case-insensitively, the last occurrence winning, quotes dropped', () => {
    const conf = readRedisConf(
      '# comment\nappendonly no\n\nAPPENDONLY yes\nsave 3600 1  300 100\nappenddirname "appendonly"\n',
    )
    expect(conf.get('appendonly')).toBe('yes')
    expect(conf.get('save')).toBe('3600 1 300 100')
    expect(conf.get('appenddirname')).toBe('appendonly')
    expect(conf.has('comment')).toBe(false)
    expect(conf.get('maxmemory-policy')).toBeUndefined()
  })
})
