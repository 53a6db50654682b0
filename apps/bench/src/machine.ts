import { readFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import type { Redis } from 'ioredis'
import type { MachineInfo } from './results'

/** The version of an installed package, from the package.json above its entry point. */
export function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name))
    for (let i = 0; i < 6; i += 1) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: string
          version?: string
        }
        if (pkg.name === name && pkg.version) return pkg.version
      } catch {
        // not here: one folder up
      }
      dir = dirname(dir)
    }
  } catch {
    // not installed
  }
  return 'unknown'
}

/** The machine and versions; `redis` absent when the run started no redis-server (`--only fuzz`). */
export async function machineInfo(redis?: Redis): Promise<MachineInfo> {
  const info = redis === undefined ? '' : await redis.info('server')
  const cpuList = cpus()
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: totalmem(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    versions: {
      bullmq: packageVersion('bullmq'),
      ioredis: packageVersion('ioredis'),
      fastify: packageVersion('fastify'),
      autocannon: packageVersion('autocannon'),
      axios: packageVersion('axios'),
      redisServer:
        redis === undefined ? 'not started' : (/^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown'),
    },
  }
}
