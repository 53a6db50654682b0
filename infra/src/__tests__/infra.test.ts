// The invariants operators rely on, read from the deployment files the way the tools read them: YAML
// through the `yaml` library, settings through @ucd/config, queue keys through BullMQ. No Docker, no
// cluster. Each `it` is one invariant.
import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { QueueKeys } from 'bullmq'
import { SECRET_VARS, loadConfig, type AppName, type Config } from '@ucd/config'
import { INGEST_NODE_FLAGS } from '@ucd/ingest'
import { EVENTS_QUEUE } from '@ucd/queue'
import { readRedisConf } from '@ucd/testing'
import { parseAllDocuments } from 'yaml'
import { REPO_ROOT } from '../files'

/** A SIGTERMed worker needs this much beyond its drain time to close connections and exit. */
const GRACE_MARGIN_MS = 5000

const read = (file: string): string => readFileSync(join(REPO_ROOT, 'infra', file), 'utf8')

/** Every document of a YAML file, `<<` merge keys resolved as Compose does; any error or warning throws. */
function yamlDocuments(file: string): any[] {
  const documents = [...parseAllDocuments(read(file), { merge: true, uniqueKeys: true })]
  const problems = documents.flatMap(d => [...d.errors, ...d.warnings]).map(e => e.message)
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('\n')}`)
  return documents.map(d => d.toJS()).filter(d => d !== null)
}

// ---------------------------------------------------------------------------------------------------------
// docker compose

const compose = yamlDocuments('docker-compose.yml')[0]
const composeRedis = compose.services.redis
const composeWorker = compose.services.worker

/**
 * What a compose service's settings make of its app's Config. Values taken from the shell (`${...}`)
 * are left out, so they count as unset: their defaults apply.
 */
function composeConfig(service: any): Config {
  const written = Object.entries((service.environment ?? {}) as Record<string, unknown>)
    .filter(([, value]) => !String(value).includes('$'))
    .map(([key, value]) => [key, String(value)])
  return loadConfig(Object.fromEntries(written), { app: 'any' })
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes

const kustomization = yamlDocuments('k8s/kustomization.yaml')[0]
const k8s: any[] = (kustomization.resources as string[]).flatMap(file => yamlDocuments(`k8s/${file}`))
const ofKind = (kind: string): any[] => k8s.filter(doc => doc.kind === kind)
const named = (kind: string, name: string): any => ofKind(kind).find(doc => doc.metadata.name === name)
const deployment = (component: string): any =>
  ofKind('Deployment').find(d => d.metadata.labels['app.kubernetes.io/component'] === component)

/** A Secret's values (stringData as written, data base64-decoded). */
function secretData(secret: any): Record<string, string> {
  const data = Object.entries((secret?.data ?? {}) as Record<string, string>).map(([key, value]) => [
    key,
    Buffer.from(value, 'base64').toString('utf8'),
  ])
  return { ...Object.fromEntries(data), ...(secret?.stringData ?? {}) }
}

/**
 * The Config the app of a Deployment's first container loads: the environment from ConfigMaps and
 * Secrets (envFrom, then env), files from Secret volumes. Throws a ConfigError when it would not start.
 */
function podConfig(pod: any, app: AppName): Config {
  const container = pod.containers[0]
  const env: Record<string, string> = {}
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named('ConfigMap', from.configMapRef.name).data)
    if (from.secretRef) Object.assign(env, secretData(named('Secret', from.secretRef.name)))
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef
    env[entry.name] = ref ? (secretData(named('Secret', ref.name))[ref.key] ?? '') : String(entry.value)
  }
  const files = new Map<string, string>()
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes.find((v: any) => v.name === mount.name)
    if (!volume?.secret) continue
    const data = secretData(named('Secret', volume.secret.secretName))
    for (const item of volume.secret.items ?? [])
      files.set(posix.join(mount.mountPath, item.path), data[item.key] ?? '')
  }
  const readFile = (file: string): string => {
    const content = files.get(file)
    if (content === undefined) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' })
    return content
  }
  return loadConfig(env, { app, readFile })
}

const ingestPod = deployment('ingest').spec.template.spec
const workerPod = deployment('worker').spec.template.spec

// ---------------------------------------------------------------------------------------------------------

describe('Redis keeps every accepted event: noeviction and an AOF', () => {
  const conf = readRedisConf(read('redis/redis.conf'))

  it('redis.conf: maxmemory-policy noeviction, appendonly yes, appendfsync everysec', () => {
    expect(conf.get('maxmemory-policy')).toBe('noeviction')
    expect(conf.get('appendonly')).toBe('yes')
    expect(conf.get('appendfsync')).toBe('everysec')
  })

  it('compose starts Redis with that file and nothing that overrides it', () => {
    const mount = (composeRedis.volumes as string[])
      .map(volume => volume.split(':'))
      .find(([source]) => source === './redis/redis.conf')
    expect(mount).toBeDefined()
    expect(composeRedis.command).toEqual(['redis-server', mount![1]])
  })

  it('compose keeps the AOF directory on a named volume', () => {
    const dir = conf.get('dir')
    const data = (composeRedis.volumes as string[])
      .map(volume => volume.split(':'))
      .find(([, t]) => t === dir)
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.[0])
  })

  it('Kubernetes runs no Redis of its own (the operator brings one set up as infra/README.md says)', () => {
    const images = ofKind('Deployment')
      .concat(ofKind('StatefulSet'))
      .flatMap(d => d.spec.template.spec.containers.map((c: any) => String(c.image)))
    expect(images.filter(image => /(^|\/)redis([:@]|$)/.test(image))).toEqual([])
  })
})

describe('a stopped worker may drain: the grace period outlasts WORKER_DRAIN_TIMEOUT_MS', () => {
  it('compose: stop_grace_period, with the drain time written in the file', () => {
    expect(String(composeWorker.environment.WORKER_DRAIN_TIMEOUT_MS ?? '')).not.toContain('$')
    const drainMs = composeConfig(composeWorker).worker.drainTimeoutMs
    const grace = /^(\d+)s$/.exec(String(composeWorker.stop_grace_period))
    expect(grace).not.toBeNull()
    expect(Number(grace![1]) * 1000).toBeGreaterThanOrEqual(drainMs + GRACE_MARGIN_MS)
  })

  it('Kubernetes: terminationGracePeriodSeconds', () => {
    const drainMs = podConfig(workerPod, 'worker').worker.drainTimeoutMs
    expect(workerPod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(drainMs + GRACE_MARGIN_MS)
  })
})

describe('health checks ask the right route on the port the app listens on', () => {
  const pods: [string, any, number][] = [
    ['ingest', ingestPod, podConfig(ingestPod, 'ingest').ingest.port],
    ['worker', workerPod, podConfig(workerPod, 'worker').worker.metricsPort],
  ]

  it.each(pods)(
    'Kubernetes %s: liveness (and startup) /health/live, readiness /health/ready',
    (_app, pod, port) => {
      const container = pod.containers[0]
      const probePort = (probe: any): number =>
        typeof probe.httpGet.port === 'number'
          ? probe.httpGet.port
          : container.ports.find((p: any) => p.name === probe.httpGet.port)?.containerPort
      const probes = ['livenessProbe', 'startupProbe', 'readinessProbe'].map(kind => container[kind])
      expect(probes.map(probe => probe?.httpGet?.path)).toEqual([
        '/health/live',
        '/health/live',
        '/health/ready',
      ])
      expect(probes.map(probePort)).toEqual([port, port, port])
    },
  )

  it.each([
    ['ingest', compose.services.ingest, (c: Config) => c.ingest.port],
    ['worker', composeWorker, (c: Config) => c.worker.metricsPort],
  ])('compose %s: healthy means /health/ready answers', (_app, service, port) => {
    const [cmd, node, script, target] = service.healthcheck.test as string[]
    expect([cmd, node, script]).toEqual(['CMD', 'node', 'infra/docker/healthcheck.cjs'])
    const url = new URL(target ?? '')
    expect([url.pathname, Number(url.port)]).toEqual(['/health/ready', port(composeConfig(service))])
  })
})

describe('replicas', () => {
  it('compose runs three workers', () => {
    expect(composeWorker.deploy.replicas).toBe(3)
  })

  it('Kubernetes leaves replicas to the autoscalers: at least two ingest pods, at least one worker', () => {
    expect(ofKind('Deployment').filter(d => d.spec.replicas !== undefined)).toEqual([])
    const hpa = ofKind('HorizontalPodAutoscaler')
    expect(hpa.map(h => h.spec.scaleTargetRef.name)).toEqual([deployment('ingest').metadata.name])
    expect(hpa[0].spec.minReplicas).toBeGreaterThanOrEqual(2)
    // Delayed (backoff) jobs are not in the list KEDA watches: retries need a worker even when it is empty.
    const [scaled] = ofKind('ScaledObject')
    expect(scaled.spec.scaleTargetRef.name).toBe(deployment('worker').metadata.name)
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1)
  })
})

describe('KEDA', () => {
  it("watches BullMQ's waiting list of the events queue under the workers' QUEUE_PREFIX", () => {
    const prefix = podConfig(workerPod, 'worker').queuePrefix
    const trigger = ofKind('ScaledObject')[0].spec.triggers.find((t: any) => t.type === 'redis')
    expect(trigger.metadata.listName).toBe(new QueueKeys(prefix).toKey(EVENTS_QUEUE, 'wait'))
    expect(trigger.metadata.listName).toBe(`${prefix}:events:wait`)
  })
})

describe('secrets stay out of the files', () => {
  it('no secret variable in a ConfigMap; compose takes them from the environment', () => {
    const inConfigMaps = ofKind('ConfigMap').flatMap(c => Object.keys(c.data ?? {}))
    expect(inConfigMaps.filter(key => SECRET_VARS.includes(key) || key === 'REDIS_URL')).toEqual([])
    const literal = Object.values(compose.services as Record<string, any>).flatMap(service =>
      Object.entries((service.environment ?? {}) as Record<string, unknown>)
        .filter(([key, value]) => SECRET_VARS.includes(key) && !/^\$\{[A-Z_]+:?-\}$/.test(String(value)))
        .map(([key]) => key),
    )
    expect(literal).toEqual([])
  })
})

/** The Dockerfile's runtime stage (from its last FROM), line by line, trimmed. */
function dockerfileRuntime(): string[] {
  const lines = read('Dockerfile')
    .split('\n')
    .map(line => line.trim())
  return lines.slice(lines.map(l => l.startsWith('FROM ')).lastIndexOf(true))
}

describe('Dockerfile (its runtime stage, line by line)', () => {
  const runtime = dockerfileRuntime()
  const last = (keyword: string): number => runtime.map(l => l.startsWith(`${keyword} `)).lastIndexOf(true)

  it('runs as a non-root user, set before the command', () => {
    const user = runtime[last('USER')]
    expect(user).toBeDefined()
    expect(['root', '0', '0:0', 'root:root']).not.toContain(user!.slice('USER '.length).trim())
    expect(last('USER')).toBeLessThan(last('CMD'))
  })

  it('has tini as PID 1, installed in the image', () => {
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]')
    expect(runtime.some(line => /apt-get install\b.*\btini\b/.test(line))).toBe(true)
  })

  it('has a HEALTHCHECK running the bundled node script', () => {
    expect(runtime.some(line => line.startsWith('HEALTHCHECK '))).toBe(true)
    expect(runtime).toContain('CMD ["node", "infra/docker/healthcheck.cjs"]')
  })
})

describe('the ingest is started with its Node.js flags (INGEST_NODE_FLAGS) wherever it runs', () => {
  const ingestCommand = ['node', ...INGEST_NODE_FLAGS, 'apps/ingest/dist/main.js']

  it('the image: the Dockerfile command', () => {
    expect(dockerfileRuntime()).toContain(`CMD ${JSON.stringify(ingestCommand).replace(/","/g, '", "')}`)
  })

  it('compose: the ingest services', () => {
    const ingests = Object.entries(compose.services as Record<string, any>).filter(([name]) =>
      name.startsWith('ingest'),
    )
    expect(ingests.length).toBeGreaterThan(0)
    for (const [, service] of ingests) expect(service.command).toEqual(ingestCommand)
  })

  it('Kubernetes: the ingest Deployment', () => {
    const container = deployment('ingest').spec.template.spec.containers[0]
    expect(container.args).toEqual(ingestCommand)
  })

  it('the root and ingest package scripts', () => {
    const scripts = (file: string): Record<string, string> =>
      JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8')).scripts
    expect(scripts('package.json').ingest).toBe(ingestCommand.join(' '))
    expect(scripts('apps/ingest/package.json').start).toBe(
      ['node', ...INGEST_NODE_FLAGS, 'dist/main.js'].join(' '),
    )
  })
})
