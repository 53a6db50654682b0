import { describe, expect, it } from '@jest/globals'
import { Cluster, Redis } from 'ioredis'
import { clusterOptions } from '../connection'
import { createRedisConnection } from '../index'

const cluster = { kind: 'cluster' as const, nodes: [{ host: '10.0.0.5', port: 7000 }], tls: false }

describe('createRedisConnection', () => {
  it('gives a Redis for a URL or a single target, a Cluster for a cluster target', () => {
    const options = { lazyConnect: true }
    const clients = [
      createRedisConnection('redis://127.0.0.1:6379', 'producer', options),
      createRedisConnection({ kind: 'single', url: 'redis://127.0.0.1:6379' }, 'producer', options),
      createRedisConnection(cluster, 'worker', options),
    ]
    try {
      expect(clients[0]).toBeInstanceOf(Redis)
      expect(clients[1]).toBeInstanceOf(Redis)
      expect(clients[2]).toBeInstanceOf(Cluster)
      expect(clients[2]).not.toBeInstanceOf(Redis)
      expect(clients[2]!.status).toBe('wait')
    } finally {
      for (const client of clients) client.disconnect()
    }
  })
})

describe('clusterOptions', () => {
  it('a producer fails fast: no offline queue, one retry, the command timeout on every node', () => {
    const options = clusterOptions(cluster, 'producer', {
      commandTimeoutMs: 800,
      connectionName: 'ucd-ingest',
    })
    expect(options).toMatchObject({ enableOfflineQueue: false, enableReadyCheck: true, scaleReads: 'master' })
    expect(options.redisOptions).toMatchObject({
      maxRetriesPerRequest: 1,
      commandTimeout: 800,
      connectionName: 'ucd-ingest',
    })
    expect(options.clusterRetryStrategy?.(3)).toBeGreaterThan(0)
  })

  it('a worker waits: offline queue, maxRetriesPerRequest null on the nodes (where BullMQ checks it)', () => {
    const options = clusterOptions(cluster, 'worker')
    expect(options.enableOfflineQueue).toBe(true)
    expect(options.redisOptions?.maxRetriesPerRequest).toBeNull()
    expect(options.redisOptions).not.toHaveProperty('tls')
  })

  it('gives every node TLS and the credentials of a rediss:// cluster', () => {
    const options = clusterOptions({ ...cluster, tls: true, username: 'u', password: 'p' }, 'worker')
    expect(options.redisOptions).toMatchObject({ tls: {}, username: 'u', password: 'p' })
    expect(options.dnsLookup).toBeInstanceOf(Function)
  })
})
