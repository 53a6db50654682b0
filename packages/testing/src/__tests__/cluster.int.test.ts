import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
import { Cluster } from 'ioredis'
import { pingRedis, spawnApp, startRedisCluster, waitFor, type RedisClusterHandle } from '../index'

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function started(): Promise<RedisClusterHandle> {
  const cluster = await startRedisCluster({ masters: 3 })
  closers.push(() => cluster.stop())
  return cluster
}

describe('startRedisCluster()', () => {
  it('starts 3 masters that form one cluster, reachable from its seeds, with DBSIZE per master', async () => {
    const cluster = await started()
    expect(cluster.nodes).toHaveLength(3)
    expect(cluster.seeds).toBe(cluster.nodes.map(n => `${n.host}:${n.port}`).join(','))
    expect(cluster.target).toEqual({ kind: 'cluster', nodes: cluster.nodes, tls: false })
    expect(await cluster.dbSizes()).toEqual([0, 0, 0])

    const client = new Cluster(cluster.nodes)
    closers.push(() => client.quit())
    expect(await client.call('CLUSTER', 'INFO')).toMatch(/cluster_state:ok/)
    const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>
    expect(slots.map(([from, to, [, port]]) => [from, to, port]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [0, 5460, expect.any(Number)],
      [5461, 10922, expect.any(Number)],
      [10923, 16383, expect.any(Number)],
    ])
    expect(new Set(slots.map(([, , [, port]]) => port))).toEqual(new Set(cluster.nodes.map(n => n.port)))

    // One key per master: the hash tags {a}, {b}, {c} are in slots 15495, 3300 and 7365.
    for (const tag of ['a', 'b', 'c']) await client.set(`{${tag}}:k`, '1')
    const sizes = await cluster.dbSizes()
    expect(sizes).toHaveLength(3)
    expect(sizes.every(size => size === 1)).toBe(true)
  })

  it('stop() shuts every node down', async () => {
    const cluster = await startRedisCluster()
    await cluster.stop()
    for (const node of cluster.nodes)
      expect(await pingRedis(`redis://${node.host}:${node.port}`, 500)).toBe(false)
    await cluster.stop()
  })

  it('leaves nothing behind when the process that started it dies (SIGKILL)', async () => {
    const app = await spawnApp({
      args: [join(__dirname, '../../fixtures/harness/cluster.cjs')],
      readyPattern: /^ready$/m,
      readyTimeoutMs: 60_000,
    })
    closers.push(() => app.kill())
    const { nodes, dir } = JSON.parse(app.stdout().split('\n')[0]!) as {
      nodes: Array<{ host: string; port: number }>
      dir: string
    }
    expect(existsSync(join(dir, String(nodes[0]!.port), 'nodes.conf'))).toBe(true)
    await app.kill()
    await waitFor(
      async () => {
        const answering = await Promise.all(nodes.map(n => pingRedis(`redis://${n.host}:${n.port}`, 300)))
        return !answering.includes(true) && !existsSync(dir)
      },
      { description: 'the cluster of a killed process to be gone' },
    )
  })

  it('refuses fewer than 3 masters, and says how to get the binaries when they are missing', async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(/at least 3 masters, not 2/)
    await expect(startRedisCluster({ searchPath: '/nonexistent' })).rejects.toThrow(
      /No redis-server or redis-cli binary on PATH\.\n.*redis-cli.*\n.*apt-get install -y redis-server/s,
    )
  })
})
