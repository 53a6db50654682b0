import { describe, expect, it } from '@jest/globals'
import { memorySettings, shippedMemorySettings } from '../redis-conf'

describe('memorySettings', () => {
  it('keeps the directives that shape memory and leaves persistence, network and paths out', () => {
    const text = [
      'maxmemory-policy noeviction',
      'appendonly yes',
      'dir /data',
      'port 6379',
      'hash-max-listpack-value 1024',
      '# hash-max-listpack-entries 512',
      'hash-max-listpack-value 4096',
      'zset-max-listpack-entries 256',
    ].join('\n')
    expect(memorySettings(text)).toEqual({
      'maxmemory-policy': 'noeviction',
      'hash-max-listpack-value': '4096',
      'zset-max-listpack-entries': '256',
    })
  })

  it("reads the project's own infra/redis/redis.conf", () => {
    expect(shippedMemorySettings()).toMatchObject({ 'maxmemory-policy': 'noeviction' })
  })
})
