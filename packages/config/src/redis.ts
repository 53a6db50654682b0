import { isIP } from 'node:net'
import { z } from 'zod'
import type { ConfigProblem } from './load'
import type { SHARED, Values, WORKER } from './schema'

// Where Redis is (REDIS_URL, or REDIS_CLUSTER_NODES for a Redis Cluster) and how the event queues are
// sharded over it (QUEUE_SHARDS, WORKER_SHARDS): the kinds of these variables, the target the apps
// connect to (`config.redis`), and the checks that span several variables.

/** The most event queue shards (QUEUE_SHARDS). */
export const MAX_QUEUE_SHARDS = 256

const RedisNodeSchema = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })
export type RedisNode = z.output<typeof RedisNodeSchema>

/** REDIS_CLUSTER_NODES, parsed: the seed nodes, and the TLS and credentials every node shares. */
const RedisClusterSchema = z.object({
  nodes: z.array(RedisNodeSchema).min(1),
  /** `rediss://` seeds: TLS to every node. */
  tls: z.boolean(),
  username: z.string().optional(),
  password: z.string().optional(),
})
export type RedisClusterSeeds = z.output<typeof RedisClusterSchema>

/**
 * What an app connects to: one Redis server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
 * `createRedisConnection(target, role)` of @ucd/queue gives an ioredis `Redis` or `Cluster` for it.
 */
export const RedisTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('single'), url: z.string() }),
  RedisClusterSchema.extend({ kind: z.literal('cluster') }),
])
export type RedisTarget = z.output<typeof RedisTargetSchema>

const SEED_FORMAT = 'host:port (e.g. 10.0.0.5:6379) or redis[s]://[user:password@]host:port'
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/

/** A seed's host: a DNS name, an IPv4 address, or an IPv6 address in brackets (brackets removed). */
function seedHost(text: string): string | undefined {
  if (text.startsWith('[') && text.endsWith(']')) {
    const address = text.slice(1, -1)
    return isIP(address) === 6 ? address : undefined
  }
  return HOSTNAME.test(text) && isIP(text) !== 6 ? text : undefined
}

function seedPort(text: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN
  return port >= 1 && port <= 65535 ? port : undefined
}

type Seed = RedisNode & { url: boolean; tls: boolean; username?: string; password?: string }

/** One seed, or why not (never quoting it: a URL seed may hold a password). */
function parseSeed(text: string): Seed | string {
  if (!text.includes('://')) {
    const colon = text.lastIndexOf(':')
    const host = seedHost(text.slice(0, colon))
    const port = seedPort(text.slice(colon + 1))
    return colon > 0 && host !== undefined && port !== undefined
      ? { host, port, url: false, tls: false }
      : `must be ${SEED_FORMAT}`
  }
  if (!URL.canParse(text)) return `must be ${SEED_FORMAT}`
  const url = new URL(text)
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must use redis: or rediss:'
  const host = seedHost(url.hostname)
  const port = seedPort(url.port || '6379')
  if (host === undefined || port === undefined) return `must be ${SEED_FORMAT}`
  if (!['', '/', '/0'].includes(url.pathname) || url.search !== '' || url.hash !== '')
    return 'must not name a database or options: a Redis Cluster has only database 0'
  return {
    host,
    port,
    url: true,
    tls: url.protocol === 'rediss:',
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  }
}

/**
 * REDIS_CLUSTER_NODES: comma-separated seed nodes of a Redis Cluster, each `host:port` or
 * `redis[s]://[user:password@]host:port`: the URL seeds give TLS and credentials to every node (so
 * they must agree), the `host:port` ones take them. ioredis finds the other nodes from any seed that
 * answers.
 */
export const clusterSeeds = () =>
  z.string().transform((value, ctx): RedisClusterSeeds => {
    const texts = value.split(',').map(part => part.trim())
    const seeds: Seed[] = []
    texts.forEach((text, index) => {
      const seed = parseSeed(text)
      if (typeof seed === 'string') ctx.addIssue({ code: 'custom', message: `seed ${index + 1} ${seed}` })
      else seeds.push(seed)
    })
    const first = seeds[0]
    if (seeds.length !== texts.length || first === undefined) return z.NEVER
    // The URL seeds say TLS and credentials, and must agree; host:port seeds take theirs.
    const urls = seeds.filter(s => s.url)
    const shared = urls[0] ?? first
    const disagrees = (s: Seed) =>
      s.tls !== shared.tls || s.username !== shared.username || s.password !== shared.password
    if (urls.some(disagrees)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'the redis:// seeds disagree on redis:/rediss: or on the credentials: every node shares them',
      })
      return z.NEVER
    }
    return {
      nodes: seeds.map(({ host, port }) => ({ host, port })),
      tls: shared.tls,
      ...(shared.username === undefined ? {} : { username: shared.username }),
      ...(shared.password === undefined ? {} : { password: shared.password }),
    }
  })

const SHARD_LIST = 'must be comma-separated shard numbers or ranges (e.g. 0,1,2 or 0-3,8), from 0'

/** WORKER_SHARDS: comma-separated shard numbers or ranges (`0-3,8`), each listed once, ascending. */
export const shardList = () =>
  z.string().transform((value, ctx): number[] => {
    const shards: number[] = []
    for (const part of value.split(',').map(p => p.trim())) {
      const match = /^(\d{1,3})(?:\s*-\s*(\d{1,3}))?$/.exec(part)
      const from = Number(match?.[1])
      const to = Number(match?.[2] ?? match?.[1])
      if (!match || from > to || to >= MAX_QUEUE_SHARDS) {
        ctx.addIssue({ code: 'custom', message: `${SHARD_LIST} to ${MAX_QUEUE_SHARDS - 1}` })
        return z.NEVER
      }
      for (let shard = from; shard <= to; shard++) shards.push(shard)
    }
    const repeated = shards.find((shard, index) => shards.indexOf(shard) !== index)
    if (repeated !== undefined) {
      ctx.addIssue({ code: 'custom', message: `lists shard ${repeated} more than once` })
      return z.NEVER
    }
    return shards.sort((a, b) => a - b)
  })

/** `config.redis`: the cluster of REDIS_CLUSTER_NODES when set (in REDIS_URL's place), else REDIS_URL. */
export function redisTarget(shared: Values<typeof SHARED>): RedisTarget {
  const cluster = shared.redisClusterNodes
  return cluster === undefined ? { kind: 'single', url: shared.redisUrl } : { kind: 'cluster', ...cluster }
}

/**
 * The checks across the Redis and shard variables: a sharded queue's prefix carries no hash tag of
 * its own, a cluster's single queue needs one, and a worker consumes only shards that exist.
 */
export function shardingProblems(
  shared: Values<typeof SHARED>,
  worker: Values<typeof WORKER> | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const { queuePrefix, queueShards } = shared
  const tagged = queuePrefix.startsWith('{')
  if (queueShards > 1 && tagged) {
    const plain = queuePrefix.slice(1, -1)
    problems.push({
      variable: 'QUEUE_PREFIX',
      message:
        `must not be wrapped in {} when QUEUE_SHARDS is more than 1: each shard carries its own hash tag` +
        ` ({${plain}-0}, {${plain}-1}, ...); use ${plain}`,
    })
  }
  if (queueShards === 1 && shared.redisClusterNodes !== undefined && !tagged) {
    problems.push({
      variable: 'QUEUE_PREFIX',
      message:
        `must be wrapped in {} (e.g. {${queuePrefix}}) on a Redis Cluster with QUEUE_SHARDS=1, so that the` +
        ` queue's keys share one hash slot; or set QUEUE_SHARDS above 1`,
    })
  }
  const missing = worker?.shards?.filter(shard => shard >= queueShards) ?? []
  if (missing.length > 0) {
    const listed =
      missing.length === 1
        ? `lists shard ${missing[0]}, which does not exist`
        : `lists shards ${missing.join(', ')}, which do not exist`
    const existing = queueShards === 1 ? '0' : `0 to ${queueShards - 1}`
    problems.push({
      variable: 'WORKER_SHARDS',
      message: `${listed}: QUEUE_SHARDS is ${queueShards}, so the shards are ${existing}`,
    })
  }
  return problems
}
