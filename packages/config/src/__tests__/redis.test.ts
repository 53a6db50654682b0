import { describe, expect, it } from '@jest/globals'
import { ConfigError, RedisTargetSchema, loadConfig } from '../index'
import type { ConfigProblem } from '../load'

// REDIS_CLUSTER_NODES, QUEUE_SHARDS, WORKER_SHARDS and `config.redis` (issue 19).

const workerEnv = { USERCOM_API_KEY: 'uc_api_key_for_tests', USERCOM_APP_SUBDOMAIN: 'acme' }

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  throw new Error('expected a ConfigError')
}

const admin = (env: Record<string, string>) => loadConfig(env, { app: 'admin' })

describe('config.redis', () => {
  it('is REDIS_URL by default, a single server, and redisUrl stays for existing callers', () => {
    const config = admin({ REDIS_URL: 'redis://redis.internal:6380/2' })
    expect(config.redis).toEqual({ kind: 'single', url: 'redis://redis.internal:6380/2' })
    expect(config.redisUrl).toBe('redis://redis.internal:6380/2')
    expect(admin({}).redis).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' })
    expect(admin({}).redisClusterNodes).toBeUndefined()
  })

  it('is the cluster of REDIS_CLUSTER_NODES when set, in place of REDIS_URL', () => {
    const config = admin({
      REDIS_CLUSTER_NODES: ' 10.0.0.5:6379, redis-1.internal:7001 ,[::1]:7002',
      REDIS_URL: 'redis://ignored:6379',
      QUEUE_SHARDS: '6',
    })
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.5', port: 6379 },
        { host: 'redis-1.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    })
    expect(RedisTargetSchema.parse(config.redis)).toEqual(config.redis)
    expect(Object.isFrozen(config.redis)).toBe(true)
  })

  it('takes TLS and credentials from redis[s]:// seeds, shared by every node', () => {
    const config = admin({
      REDIS_CLUSTER_NODES: 'rediss://default:s%3Acret@node-a.cache.example:6380,node-b.cache.example:6380',
      QUEUE_SHARDS: '3',
    })
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'node-a.cache.example', port: 6380 },
        { host: 'node-b.cache.example', port: 6380 },
      ],
      tls: true,
      username: 'default',
      password: 's:cret',
    })
    expect(admin({ REDIS_CLUSTER_NODES: 'redis://h1', QUEUE_SHARDS: '2' }).redis).toMatchObject({
      nodes: [{ host: 'h1', port: 6379 }],
      tls: false,
    })
  })
})

describe('REDIS_CLUSTER_NODES rejects', () => {
  const rejected: Array<[string, RegExp]> = [
    ['10.0.0.5', /seed 1 must be host:port/],
    ['10.0.0.5:6379,', /seed 2 must be host:port/],
    ['10.0.0.5:6379,h:0', /seed 2 must be host:port/],
    ['h:70000', /seed 1 must be host:port/],
    [':6379', /seed 1 must be host:port/],
    ['::1:6379', /seed 1 must be host:port/],
    ['bad_host!:6379', /seed 1 must be host:port/],
    ['http://h:6379', /seed 1 must use redis: or rediss:/],
    ['redis://h:6379/2', /only database 0/],
    ['rediss://h:1,redis://h:2', /disagree on redis:\/rediss:/],
    ['redis://:one@h:1,redis://:two@h:2', /disagree .* credentials/],
  ]

  it.each(rejected)('%j, naming the seed, never echoing it', (value, why) => {
    const problems = problemsOf(() => admin({ REDIS_CLUSTER_NODES: value, QUEUE_SHARDS: '2' }))
    expect(problems).toEqual([{ variable: 'REDIS_CLUSTER_NODES', message: expect.stringMatching(why) }])
  })

  it('never puts a seed password in a message', () => {
    const problems = problemsOf(() =>
      admin({ REDIS_CLUSTER_NODES: 'rediss://:hunter2-secret@h:1/5', QUEUE_SHARDS: '2' }),
    )
    expect(problems).toHaveLength(1)
    expect(JSON.stringify(problems)).not.toContain('hunter2-secret')
  })
})

describe('QUEUE_SHARDS', () => {
  it('defaults to 1 and takes 1 to 256', () => {
    expect(admin({}).queueShards).toBe(1)
    expect(admin({ QUEUE_SHARDS: '6' }).queueShards).toBe(6)
    expect(admin({ QUEUE_SHARDS: '256' }).queueShards).toBe(256)
    for (const bad of ['0', '257', 'six', '2.5']) {
      expect(problemsOf(() => admin({ QUEUE_SHARDS: bad }))).toEqual([
        { variable: 'QUEUE_SHARDS', message: 'must be a whole number from 1 to 256' },
      ])
    }
  })

  it('refuses a {}-wrapped QUEUE_PREFIX above 1 shard: the shards carry their own hash tags', () => {
    expect(problemsOf(() => admin({ QUEUE_SHARDS: '6', QUEUE_PREFIX: '{ucd}' }))).toEqual([
      {
        variable: 'QUEUE_PREFIX',
        message: expect.stringMatching(/must not be wrapped in \{\} when QUEUE_SHARDS .*\{ucd-0\}.*use ucd$/),
      },
    ])
    expect(admin({ QUEUE_SHARDS: '1', QUEUE_PREFIX: '{ucd}' }).queuePrefix).toBe('{ucd}')
  })

  it('on a cluster with 1 shard, needs a {}-wrapped QUEUE_PREFIX so the queue keeps to one slot', () => {
    const seeds = { REDIS_CLUSTER_NODES: 'h:7000' }
    expect(problemsOf(() => admin(seeds))).toEqual([
      {
        variable: 'QUEUE_PREFIX',
        message: expect.stringMatching(/must be wrapped in \{\} \(e\.g\. \{ucd\}\)/),
      },
    ])
    expect(admin({ ...seeds, QUEUE_PREFIX: '{ucd}' }).redis.kind).toBe('cluster')
    expect(admin({ ...seeds, QUEUE_SHARDS: '6' }).queueShards).toBe(6)
  })
})

describe('WORKER_SHARDS', () => {
  const worker = (env: Record<string, string>) => loadConfig({ ...workerEnv, ...env }, { app: 'worker' })

  it('is unset (every shard) by default', () => {
    expect(worker({ QUEUE_SHARDS: '6' }).worker.shards).toBeUndefined()
  })

  it('takes shard numbers and ranges, sorted', () => {
    expect(worker({ QUEUE_SHARDS: '12', WORKER_SHARDS: '8, 0-2,5' }).worker.shards).toEqual([0, 1, 2, 5, 8])
    expect(worker({ WORKER_SHARDS: '0' }).worker.shards).toEqual([0])
  })

  it('rejects what is not a list of shards, and a shard listed twice', () => {
    for (const [value, why] of [
      ['a', /comma-separated shard numbers or ranges/],
      ['1,,2', /comma-separated/],
      ['3-1', /comma-separated/],
      ['-1', /comma-separated/],
      ['256', /from 0 to 255/],
      ['0-2,2', /lists shard 2 more than once/],
    ] as const) {
      expect(problemsOf(() => worker({ QUEUE_SHARDS: '6', WORKER_SHARDS: value }))).toEqual([
        { variable: 'WORKER_SHARDS', message: expect.stringMatching(why) },
      ])
    }
  })

  it('must name shards that exist under QUEUE_SHARDS', () => {
    expect(problemsOf(() => worker({ QUEUE_SHARDS: '6', WORKER_SHARDS: '4-7' }))).toEqual([
      {
        variable: 'WORKER_SHARDS',
        message: 'lists shards 6, 7, which do not exist: QUEUE_SHARDS is 6, so the shards are 0 to 5',
      },
    ])
    expect(problemsOf(() => worker({ WORKER_SHARDS: '1' }))[0]!.message).toMatch(
      /QUEUE_SHARDS is 1, so the shards are 0$/,
    )
  })

  it('is read by workers only: the ingest and the admin CLI ignore it', () => {
    const env = { QUEUE_SHARDS: '2', WORKER_SHARDS: '9' }
    expect(admin(env).worker.shards).toBeUndefined()
    expect(loadConfig({ ...env, SEGMENT_WRITE_KEY: 'wk' }, { app: 'ingest' }).queueShards).toBe(2)
  })
})
