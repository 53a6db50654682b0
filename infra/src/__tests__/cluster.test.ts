import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { loadConfig } from '@ucd/config'
import { EVENTS_QUEUE, shardPrefixes } from '@ucd/queue'
import { parse, parseAllDocuments } from 'yaml'
import { REPO_ROOT } from '../files'

// Redis Cluster mode (issue 19): the compose profile and the k8s overlay agree with the code.

const read = (file: string): string => readFileSync(join(REPO_ROOT, 'infra', file), 'utf8')
// YAML documents are untyped trees.
const compose: any = parse(read('docker-compose.yml'), { merge: true })
const [scaledObject]: any[] = parseAllDocuments(read('k8s/cluster/worker-scaledobject.yaml')).map(d =>
  d.toJS(),
)
const [clusterConfig]: any[] = parseAllDocuments(read('k8s/cluster/cluster-config.yaml')).map(d => d.toJS())

describe('k8s cluster overlay', () => {
  const shards = Number(clusterConfig.data.QUEUE_SHARDS)

  it('has one KEDA trigger per shard, on the waiting list of that shard’s events queue', () => {
    const lists = (scaledObject.spec.triggers as Array<{ type: string; metadata: { listName: string } }>).map(
      t => t.metadata.listName,
    )
    expect(lists).toEqual(shardPrefixes('ucd', shards).map(prefix => `${prefix}:${EVENTS_QUEUE}:wait`))
    for (const trigger of scaledObject.spec.triggers) expect(trigger.type).toBe('redis-cluster')
  })

  it('scales on the sum of every trigger (scalingModifiers), not on the busiest shard', () => {
    const names = (scaledObject.spec.triggers as Array<{ name: string }>).map(t => t.name)
    const terms = (scaledObject.spec.advanced.scalingModifiers.formula as string)
      .split('+')
      .map(t => t.trim())
    expect(terms.sort()).toEqual([...names].sort())
    expect(new Set(names).size).toBe(shards)
  })

  it('configures a cluster the config package accepts', () => {
    const config = loadConfig(
      {
        REDIS_CLUSTER_NODES: clusterConfig.data.REDIS_CLUSTER_NODES,
        QUEUE_SHARDS: clusterConfig.data.QUEUE_SHARDS,
        QUEUE_PREFIX: 'ucd',
        USERCOM_API_KEY: 'uc_test',
        USERCOM_APP_SUBDOMAIN: 'acme',
      },
      { app: 'worker' },
    )
    expect(config.redis.kind).toBe('cluster')
    expect(config.queueShards).toBe(6)
  })
})

describe('compose cluster profile', () => {
  const clusterServices = Object.entries(compose.services as Record<string, { profiles?: string[] }>)
    .filter(([, service]) => service.profiles?.includes('cluster'))
    .map(([name]) => name)

  it('runs three Redis masters, a one-shot cluster create, an ingest and workers, all under the profile', () => {
    expect(clusterServices.sort()).toEqual(
      ['ingest-cluster', 'redis-c1', 'redis-c2', 'redis-c3', 'redis-cluster-init', 'worker-cluster'].sort(),
    )
    for (const node of ['redis-c1', 'redis-c2', 'redis-c3'])
      expect(compose.services[node].command).toEqual(expect.arrayContaining(['--cluster-enabled', 'yes']))
  })

  it('points the apps at every master, with sharded queues', () => {
    for (const app of ['ingest-cluster', 'worker-cluster']) {
      const env = compose.services[app].environment
      expect(env.REDIS_CLUSTER_NODES).toBe('redis-c1:6379,redis-c2:6379,redis-c3:6379')
      expect(env.QUEUE_SHARDS).toBe('${QUEUE_SHARDS:-6}')
    }
  })
})
