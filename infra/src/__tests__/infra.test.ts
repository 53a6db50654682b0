// Parses every deployment file under infra/ and checks the invariants operators rely on. Pure file
// parsing: no Docker, no Kubernetes. Each `it` is one invariant; a failure lists what breaks it.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, posix } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { QueueKeys } from 'bullmq'
import { EnvSchema, SECRET_VARS, TenantsFileSchema, loadConfig, type AppName } from '@ucd/config'
import { EVENTS_QUEUE } from '@ucd/queue'
import {
  REPO_ROOT,
  appOfCommand,
  argDefault,
  execForm,
  healthcheckCommand,
  instructionFlags,
  interpolate,
  listFiles,
  parseDockerfile,
  parseDuration,
  parseEnvFile,
  parseRedisConf,
  readYamlDocuments,
  redisSetting,
  withoutFlags,
  type ComposeVariables,
  type DockerStage,
} from '../index'

// ---------------------------------------------------------------------------------------------------------
// The contracts these files must match (design.md, the apps' READMEs, packages/config).

/** The apps in the repository layout (design.md "Layout"). */
const LAYOUT_APPS = ['ingest', 'worker', 'admin', 'usercom-sim', 'bench']

/** HTTP routes each long-running app serves, and the variable naming its port. */
const APP_ROUTES: Record<string, { portVar: string; paths: string[]; live?: string; ready?: string }> = {
  ingest: {
    portVar: 'INGEST_PORT',
    paths: ['/health/live', '/health/ready', '/metrics'],
    live: '/health/live',
    ready: '/health/ready',
  },
  worker: {
    portVar: 'METRICS_PORT',
    paths: ['/health/live', '/health/ready', '/metrics'],
    live: '/health/live',
    ready: '/health/ready',
  },
  'usercom-sim': { portVar: 'SIM_PORT', paths: ['/__sim/health'] },
}
const SIM_DEFAULT_PORT = 4010
/** Environment variables of the simulator (apps/usercom-sim), which packages/config does not parse. */
const SIM_VARS = ['SIM_PORT', 'SIM_KEYS', 'LOG_LEVEL']

/** A SIGTERMed worker needs this much beyond its drain time to close connections and exit. */
const GRACE_MARGIN_MS = 5000

const CONFIG_DEFAULTS = EnvSchema.parse({})
const CONFIG_VARS = new Set(Object.keys(EnvSchema.shape))

// ---------------------------------------------------------------------------------------------------------
// Loading.

const path = (relative: string): string => join(REPO_ROOT, relative)
const read = (relative: string): string => readFileSync(path(relative), 'utf8')
const INFRA_FILES = listFiles(path('infra'))
const rootPackage = JSON.parse(read('package.json')) as {
  packageManager: string
  scripts: Record<string, string>
}

const compose: any = readYamlDocuments(path('infra/docker-compose.yml'))[0]
const simEnvFile = 'infra/compose.sim.env'
const simVariables = parseEnvFile(read(simEnvFile))

const kustomization: any = readYamlDocuments(path('infra/k8s/kustomization.yaml'))[0]
const k8sResources: { file: string; doc: any }[] = (kustomization.resources as string[]).flatMap(file =>
  readYamlDocuments(path(`infra/k8s/${file}`)).map(doc => ({ file, doc: doc as any })),
)
const ofKind = (kind: string): any[] => k8sResources.filter(r => r.doc.kind === kind).map(r => r.doc)
const named = (kind: string, name: string): any => ofKind(kind).find(d => d.metadata?.name === name)
const deployments = ofKind('Deployment')
const configMaps = ofKind('ConfigMap')
const secrets = ofKind('Secret')
const scaledObjects = ofKind('ScaledObject')

const dockerfile = parseDockerfile(read('infra/Dockerfile'))
const runtimeStage = dockerfile.stages[dockerfile.stages.length - 1] as DockerStage
const redisConf = parseRedisConf(read('infra/redis/redis.conf'))

/** A Secret's data as strings (stringData as written, data base64-decoded). */
function secretData(secret: any): Record<string, string> {
  const decoded = Object.fromEntries(
    Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]),
  )
  return { ...decoded, ...(secret.stringData ?? {}) }
}

/** A YAML scalar as the string Compose passes to the container (numbers and booleans as written). */
const scalar = (value: unknown): string =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value)

/** The environment of a Compose service with interpolation resolved against `variables`. */
function composeEnv(service: any, variables: ComposeVariables): Record<string, string> {
  const environment = service.environment ?? {}
  if (Array.isArray(environment)) throw new Error('environment must be a map')
  return Object.fromEntries(
    Object.entries(environment as Record<string, unknown>).map(([k, v]) => [
      k,
      interpolate(scalar(v), variables),
    ]),
  )
}

/** The environment a Kubernetes container sees: ConfigMaps by envFrom, then env (values and secretKeyRefs). */
function containerEnv(container: any): Record<string, string> {
  const env: Record<string, string> = {}
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named('ConfigMap', from.configMapRef.name)?.data ?? {})
    if (from.secretRef) Object.assign(env, secretData(named('Secret', from.secretRef.name) ?? {}))
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef
    if (entry.value !== undefined) env[entry.name] = String(entry.value)
    else if (entry.valueFrom?.secretKeyRef)
      env[entry.name] = secretData(named('Secret', ref.name) ?? {})[ref.key] ?? ''
    else if (entry.valueFrom?.configMapKeyRef)
      env[entry.name] = named('ConfigMap', ref.name)?.data?.[ref.key] ?? ''
  }
  return env
}

/** Files a container sees from Secret and ConfigMap volumes: mount path → content. */
function containerFiles(container: any, pod: any): Map<string, string> {
  const files = new Map<string, string>()
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v: any) => v.name === mount.name)
    const source = volume?.secret
      ? secretData(named('Secret', volume.secret.secretName) ?? {})
      : volume?.configMap
        ? (named('ConfigMap', volume.configMap.name)?.data ?? {})
        : undefined
    if (!source) continue
    const items: { key: string; path: string }[] =
      volume.secret?.items ?? volume.configMap?.items ?? Object.keys(source).map(key => ({ key, path: key }))
    for (const item of items) {
      if (source[item.key] !== undefined) files.set(posix.join(mount.mountPath, item.path), source[item.key])
    }
  }
  return files
}

/** The port an app listens on for its routes, given its environment. */
function appPort(app: string, env: Record<string, string | undefined>): number {
  if (app === 'usercom-sim') return Number(env.SIM_PORT ?? SIM_DEFAULT_PORT)
  const routes = APP_ROUTES[app]
  if (!routes) throw new Error(`${app} serves no routes`)
  return EnvSchema.parse(env)[routes.portVar as 'INGEST_PORT' | 'METRICS_PORT']
}

const composeServices = Object.entries(compose.services as Record<string, any>)
const composeApps = composeServices
  .map(([name, service]) => ({ name, service, app: appOfCommand(service.command ?? []) }))
  .filter((s): s is { name: string; service: any; app: string } => s.app !== undefined)
const k8sContainers = deployments.flatMap(deployment =>
  (deployment.spec.template.spec.containers as any[]).map(container => ({
    deployment,
    container,
    pod: deployment.spec.template.spec,
    app: appOfCommand([...(container.command ?? []), ...(container.args ?? [])]),
    where: `${deployment.metadata.name}/${container.name}`,
  })),
)
const workerContainer = k8sContainers.find(c => c.app === 'worker')
const composeWorker = compose.services.worker
const composeRedis = compose.services.redis

// ---------------------------------------------------------------------------------------------------------

describe('every infra file parses', () => {
  it('lists the files it checks', () => {
    for (const file of [
      'infra/Dockerfile',
      'infra/Dockerfile.dockerignore',
      'infra/docker-compose.yml',
      'infra/compose.sim.env',
      'infra/redis/redis.conf',
      'infra/k8s/kustomization.yaml',
      'infra/docker/healthcheck.cjs',
      'infra/docker/collect-runtime.cjs',
    ]) {
      expect(INFRA_FILES).toContain(file)
    }
  })

  it('parses every YAML file under infra/ without errors, warnings or duplicate keys', () => {
    const yamlFiles = INFRA_FILES.filter(f => /\.ya?ml$/.test(f))
    expect(yamlFiles.length).toBeGreaterThanOrEqual(9)
    const problems: string[] = []
    for (const file of yamlFiles) {
      try {
        if (readYamlDocuments(path(file)).length === 0) problems.push(`${file}: no document`)
      } catch (error) {
        problems.push((error as Error).message)
      }
    }
    expect(problems).toEqual([])
  })

  it('parses every JSON and env file under infra/', () => {
    const problems: string[] = []
    for (const file of INFRA_FILES) {
      try {
        if (file.endsWith('.json')) JSON.parse(read(file))
        if (file.endsWith('.env')) parseEnvFile(read(file))
      } catch (error) {
        problems.push(`${file}: ${(error as Error).message}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('applies every manifest in infra/k8s through kustomization.yaml, and only files that exist', () => {
    const manifests = INFRA_FILES.filter(
      f => /^infra\/k8s\/.*\.ya?ml$/.test(f) && !f.endsWith('kustomization.yaml'),
    )
    const listed = (kustomization.resources as string[]).map(r => `infra/k8s/${r}`)
    expect([...listed].sort()).toEqual(manifests)
  })

  it('gives every Kubernetes object an apiVersion, a kind and a name', () => {
    const problems = k8sResources
      .filter(({ doc }) => !doc.apiVersion || !doc.kind || !doc.metadata?.name)
      .map(({ file }) => file)
    expect(problems).toEqual([])
  })

  it('parses the Dockerfile into stages and redis.conf into directives', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2)
    expect(redisConf.size).toBeGreaterThan(0)
  })
})

describe('redis.conf: what BullMQ needs from Redis', () => {
  it('never evicts keys (maxmemory-policy noeviction)', () => {
    expect(redisSetting(redisConf, 'maxmemory-policy')).toBe('noeviction')
  })

  it('keeps an append-only file (appendonly yes)', () => {
    expect(redisSetting(redisConf, 'appendonly')).toBe('yes')
  })

  it('fsyncs the AOF every second (appendfsync everysec)', () => {
    expect(redisSetting(redisConf, 'appendfsync')).toBe('everysec')
  })

  it('is the file the compose Redis is started with', () => {
    const mounts = (composeRedis.volumes as string[]).map(v => v.split(':'))
    const confMount = mounts.find(
      ([source]) =>
        source !== undefined && path(posix.join('infra', source)) === path('infra/redis/redis.conf'),
    )
    expect(confMount).toBeDefined()
    const target = confMount![1]
    expect(composeRedis.command).toEqual(['redis-server', target])
  })

  it('writes its data (AOF, RDB) to a volume compose keeps across container restarts', () => {
    const dir = redisSetting(redisConf, 'dir')
    const volumes = (composeRedis.volumes as string[]).map(v => v.split(':'))
    const dataVolume = volumes.find(
      ([source, target]) => target === dir && source !== undefined && !source.startsWith('.'),
    )
    expect(dataVolume).toBeDefined()
    expect(Object.keys(compose.volumes ?? {})).toContain(dataVolume![0])
  })
})

describe('graceful shutdown: the grace period outlasts the worker drain time', () => {
  it('compose: the worker stop_grace_period exceeds WORKER_DRAIN_TIMEOUT_MS (as set, or its default)', () => {
    const drainMs = EnvSchema.parse(composeEnv(composeWorker, {})).WORKER_DRAIN_TIMEOUT_MS
    const graceMs = parseDuration(String(composeWorker.stop_grace_period ?? '10s'))
    expect(graceMs).toBeGreaterThanOrEqual(drainMs + GRACE_MARGIN_MS)
  })

  it('Kubernetes: the worker terminationGracePeriodSeconds exceeds WORKER_DRAIN_TIMEOUT_MS (as set, or its default)', () => {
    expect(workerContainer).toBeDefined()
    const drainMs = EnvSchema.parse(containerEnv(workerContainer!.container)).WORKER_DRAIN_TIMEOUT_MS
    const graceSeconds = workerContainer!.pod.terminationGracePeriodSeconds ?? 30
    expect(graceSeconds * 1000).toBeGreaterThanOrEqual(drainMs + GRACE_MARGIN_MS)
  })

  it('the default drain time is the one the files assume (25 s)', () => {
    expect(CONFIG_DEFAULTS.WORKER_DRAIN_TIMEOUT_MS).toBe(25_000)
  })
})

describe('commands: every command runs an app that exists, through a root package.json script', () => {
  const commands: { where: string; command: string[] }[] = [
    ...composeServices
      .filter(([, service]) => service.command !== undefined && service.image !== composeRedis.image)
      .map(([name, service]) => ({ where: `compose ${name}`, command: service.command as string[] })),
    ...k8sContainers.map(c => ({
      where: `k8s ${c.where}`,
      command: [...(c.container.command ?? []), ...(c.container.args ?? [])] as string[],
    })),
    ...runtimeStage.instructions
      .filter(i => i.keyword === 'CMD')
      .map(i => ({ where: `Dockerfile CMD (line ${i.line})`, command: execForm(i.args) ?? [i.args] })),
    ...[...read('infra/README.md').matchAll(/node (apps\/[a-z0-9-]+\/[^\s`'"]*)/g)].map(m => ({
      where: 'infra/README.md',
      command: ['node', m[1] ?? ''],
    })),
  ]

  it('finds the commands of compose, Kubernetes, the Dockerfile and the README', () => {
    expect(commands.filter(c => c.where.startsWith('compose')).length).toBeGreaterThanOrEqual(3)
    expect(commands.filter(c => c.where.startsWith('k8s')).length).toBe(2)
    expect(commands.filter(c => c.where.startsWith('Dockerfile')).length).toBe(1)
    expect(commands.filter(c => c.where === 'infra/README.md').length).toBeGreaterThan(0)
  })

  it('runs `node apps/<app>/dist/main.js` of an app in the repository layout', () => {
    const problems = commands
      .filter(({ command }) => !LAYOUT_APPS.includes(appOfCommand(command) ?? ''))
      .map(({ where, command }) => `${where}: ${command.join(' ')}`)
    expect(problems).toEqual([])
  })

  it('matches a root package.json script, so `pnpm <script>` and the container run the same thing', () => {
    const scripts = Object.values(rootPackage.scripts)
    const problems = commands
      .filter(({ command }) => !scripts.some(script => script === command.slice(0, 2).join(' ')))
      .map(({ where, command }) => `${where}: no root script is "${command.slice(0, 2).join(' ')}"`)
    expect(problems).toEqual([])
  })

  it('names apps whose sources have an entry point, where the app is present', () => {
    const problems = [...new Set(commands.map(c => appOfCommand(c.command)))]
      .filter((app): app is string => app !== undefined && existsSync(path(`apps/${app}/package.json`)))
      .filter(app => !existsSync(path(`apps/${app}/src/main.ts`)))
      .map(app => `apps/${app}/src/main.ts is missing`)
    expect(problems).toEqual([])
  })

  it('uses the exec form (no shell between the container runtime and node)', () => {
    const problems = commands
      .filter(({ where }) => where !== 'infra/README.md')
      .filter(({ command }) => command.length < 2 || command[0] !== 'node')
      .map(({ where, command }) => `${where}: ${command.join(' ')}`)
    expect(problems).toEqual([])
  })
})

describe('Dockerfile', () => {
  const stageNames = dockerfile.stages.map(s => s.name)
  const runtime = runtimeStage.instructions
  const stageByName = (name: string) => dockerfile.stages.find(s => s.name === name)

  it('is multi-stage, ending with the runtime stage', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2)
    expect(runtimeStage.name).toBe('runtime')
    expect(stageNames).toContain('build')
  })

  it('builds on the Node.js major of .nvmrc', () => {
    const nodeVersion = dockerfile.globalArgs.map(argDefault).find(([name]) => name === 'NODE_VERSION')?.[1]
    const nvmrc = read('.nvmrc').trim()
    expect(nodeVersion?.split('.')[0]).toBe(nvmrc.split('.')[0])
    expect(dockerfile.stages[0]?.from).toBe('node:${NODE_VERSION}-bookworm-slim')
  })

  it('installs the pnpm version pinned in package.json "packageManager"', () => {
    const pinned = /^pnpm@(.+)$/.exec(rootPackage.packageManager)?.[1]
    const pnpmVersion = dockerfile.globalArgs.map(argDefault).find(([name]) => name === 'PNPM_VERSION')?.[1]
    expect(pnpmVersion).toBe(pinned)
    const build = stageByName('build')!.instructions
    expect(build.some(i => i.keyword === 'RUN' && i.args.includes('pnpm@${PNPM_VERSION}'))).toBe(true)
  })

  it('runs as a non-root user in the runtime stage, from before its command', () => {
    const users = runtime.filter(i => i.keyword === 'USER')
    const user = users[users.length - 1]
    expect(user).toBeDefined()
    expect(['root', '0', '0:0', 'root:root']).not.toContain(user!.args.trim())
    const cmd = runtime.find(i => i.keyword === 'CMD')!
    expect(user!.line).toBeLessThan(cmd.line)
  })

  it('copies only production dependencies into the runtime stage', () => {
    // The runtime stage takes files from the build context (only the healthcheck script) or from /out of
    // a stage where /out was collected after a production-only install; it never installs or copies `.`.
    const problems: string[] = []
    for (const instruction of runtime.filter(i => ['COPY', 'ADD', 'RUN'].includes(i.keyword))) {
      const words = withoutFlags(instruction.args)
      const from = instructionFlags(instruction.args).from
      if (instruction.keyword === 'RUN' && /\b(pnpm|npm|yarn)\b.*\binstall\b/.test(instruction.args))
        problems.push(`line ${instruction.line}: installs packages in the runtime stage`)
      if (instruction.keyword === 'RUN') continue
      const sources = words.slice(0, -1)
      if (from === undefined) {
        if (sources.some(s => s !== 'infra/docker/healthcheck.cjs'))
          problems.push(`line ${instruction.line}: copies ${sources.join(' ')} from the build context`)
        continue
      }
      if (sources.join(' ') !== '/out')
        problems.push(`line ${instruction.line}: copies ${sources.join(' ')} from ${from}`)
      const source = stageByName(from)
      if (!source) {
        problems.push(`line ${instruction.line}: --from=${from} is not a stage`)
        continue
      }
      const runs = source.instructions.filter(i => i.keyword === 'RUN')
      const installs = runs.filter(i => /\bpnpm install\b/.test(i.args))
      const lastInstall = installs[installs.length - 1]
      const collect = runs.find(i => i.args.includes('infra/docker/collect-runtime.cjs /out'))
      if (!lastInstall?.args.includes('--prod'))
        problems.push(`stage ${from}: its last pnpm install is not --prod`)
      if (!lastInstall?.args.includes('--frozen-lockfile'))
        problems.push(`stage ${from}: its last pnpm install is not --frozen-lockfile`)
      if (!lastInstall?.args.includes('rm -rf'))
        problems.push(`stage ${from}: node_modules are not removed first`)
      if (!collect || !lastInstall || collect.line < lastInstall.line)
        problems.push(`stage ${from}: /out is not collected after the production install`)
    }
    expect(problems).toEqual([])
  })

  it('installs and collects the same apps, every app a compose service or Kubernetes container runs', () => {
    const build = stageByName('build')!.instructions.filter(i => i.keyword === 'RUN')
    const install = build.filter(i => /\bpnpm install\b/.test(i.args)).pop()!
    const filtered = [...install.args.matchAll(/--filter-prod "\{\.\/apps\/([a-z0-9-]+)\}\.\.\."/g)].map(
      m => m[1],
    )
    const collect = build.find(i => i.args.includes('collect-runtime.cjs'))!
    const collected = withoutFlags(collect.args).slice(3)
    expect([...filtered].sort()).toEqual([...collected].sort())
    const used = [...composeApps.map(s => s.app), ...k8sContainers.map(c => c.app), 'admin']
    const missing = [...new Set(used)].filter(app => !collected.includes(app as string))
    expect(missing).toEqual([])
  })

  it('keeps host node_modules and build output out of the build context', () => {
    const ignore = read('infra/Dockerfile.dockerignore')
      .split('\n')
      .map(l => l.trim())
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']))
  })

  it('lets signals reach node: tini as the exec-form ENTRYPOINT, the app as the exec-form CMD', () => {
    const entrypoints = runtime.filter(i => i.keyword === 'ENTRYPOINT')
    const cmds = runtime.filter(i => i.keyword === 'CMD')
    expect(entrypoints).toHaveLength(1)
    expect(cmds).toHaveLength(1)
    expect(execForm(entrypoints[0]!.args)).toEqual(['/usr/bin/tini', '--'])
    expect(runtime.some(i => i.keyword === 'RUN' && /apt-get install .*\btini\b/.test(i.args))).toBe(true)
    expect(appOfCommand(execForm(cmds[0]!.args) ?? [])).toBe('ingest')
  })

  it('has a HEALTHCHECK that runs the bundled node script (no curl) against real routes', () => {
    const healthchecks = runtime.filter(i => i.keyword === 'HEALTHCHECK')
    expect(healthchecks).toHaveLength(1)
    const command = healthcheckCommand(healthchecks[0]!)
    expect(command).toEqual(['node', 'infra/docker/healthcheck.cjs'])
    const copied = runtime.some(
      i => i.keyword === 'COPY' && i.args.includes('/app/infra/docker/healthcheck.cjs'),
    )
    expect(copied).toBe(true)
    // Without arguments the script asks the readiness route of the ingest, then of the worker.
    const script = createRequire(__filename)(path('infra/docker/healthcheck.cjs'))
    const urls = (script.defaultUrls({}) as string[]).map(u => new URL(u))
    expect(urls.map(u => `${u.port}${u.pathname}`)).toEqual([
      `${appPort('ingest', {})}${APP_ROUTES.ingest!.ready}`,
      `${appPort('worker', {})}${APP_ROUTES.worker!.ready}`,
    ])
    const custom = (script.defaultUrls({ INGEST_PORT: '18080', METRICS_PORT: '19464' }) as string[]).map(
      u => new URL(u).port,
    )
    expect(custom).toEqual(['18080', '19464'])
  })

  it('sets NODE_ENV=production in the runtime stage', () => {
    expect(runtime.some(i => i.keyword === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(true)
  })
})

describe('docker-compose.yml', () => {
  it('runs three worker replicas', () => {
    expect(composeWorker.deploy?.replicas).toBe(3)
  })

  it('has ingest, worker and redis by default and the simulator only under the "sim" profile', () => {
    for (const name of ['redis', 'ingest', 'worker']) expect(compose.services[name].profiles).toBeUndefined()
    const sim = composeApps.find(s => s.app === 'usercom-sim')
    expect(sim?.service.profiles).toEqual(['sim'])
  })

  it('puts a healthcheck on every app service, on a real route of that app on its port', () => {
    const problems: string[] = []
    for (const { name, service, app } of composeApps) {
      const test = service.healthcheck?.test as string[] | undefined
      if (!test || test[0] !== 'CMD' || test[1] !== 'node' || test[2] !== 'infra/docker/healthcheck.cjs') {
        problems.push(`${name}: healthcheck is not ["CMD", "node", "infra/docker/healthcheck.cjs", <url>]`)
        continue
      }
      const urls = test.slice(3).map(u => new URL(u))
      if (urls.length === 0) problems.push(`${name}: healthcheck names no URL`)
      const port = appPort(app, composeEnv(service, {}))
      for (const url of urls) {
        if (!APP_ROUTES[app]?.paths.includes(url.pathname))
          problems.push(`${name}: ${url.pathname} is not a route of ${app}`)
        if (Number(url.port) !== port)
          problems.push(`${name}: healthcheck port ${url.port}, ${app} listens on ${port}`)
        if (APP_ROUTES[app]?.ready && url.pathname !== APP_ROUTES[app].ready)
          problems.push(`${name}: healthy should mean ready (${APP_ROUTES[app].ready})`)
      }
    }
    expect(composeApps.map(s => s.app).sort()).toEqual(['ingest', 'usercom-sim', 'worker'])
    expect(problems).toEqual([])
  })

  it('checks Redis with redis-cli ping', () => {
    expect(composeRedis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping'])
  })

  it('starts ingest and worker once Redis is healthy, and the worker once the simulator is (when present)', () => {
    for (const name of ['ingest', 'worker']) {
      expect(compose.services[name].depends_on?.redis).toEqual({ condition: 'service_healthy' })
    }
    expect(composeWorker.depends_on['usercom-sim']).toEqual({ condition: 'service_healthy', required: false })
  })

  it('points every app at the compose Redis, with one QUEUE_PREFIX', () => {
    const envs = composeApps.filter(s => s.app !== 'usercom-sim').map(s => composeEnv(s.service, {}))
    for (const env of envs) expect(new URL(env.REDIS_URL ?? '').hostname).toBe('redis')
    expect(new Set(envs.map(env => EnvSchema.parse(env).QUEUE_PREFIX)).size).toBe(1)
  })

  it('sets only variables the apps read, with values packages/config accepts', () => {
    const problems: string[] = []
    for (const { name, service, app } of composeApps) {
      const env = composeEnv(service, {})
      const known = app === 'usercom-sim' ? SIM_VARS : [...CONFIG_VARS]
      for (const key of Object.keys(env))
        if (!known.includes(key)) problems.push(`${name}: ${key} is not a setting of ${app}`)
      if (app !== 'usercom-sim') {
        const parsed = EnvSchema.safeParse(env)
        if (!parsed.success)
          problems.push(`${name}: ${parsed.error.issues.map(i => i.path.join('.')).join(', ')}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('holds no secret literally: write keys and API keys come from the environment or --env-file', () => {
    const problems: string[] = []
    for (const { name, service } of composeApps) {
      for (const [key, value] of Object.entries((service.environment ?? {}) as Record<string, unknown>)) {
        const secret = (SECRET_VARS as readonly string[]).includes(key) || key === 'SIM_KEYS'
        if (secret && !/^\$\{[A-Z_]+:?-\}$/.test(String(value)))
          problems.push(`${name}: ${key} is written in the file`)
      }
    }
    expect(problems).toEqual([])
  })

  describe(`with ${simEnvFile} (the simulator profile)`, () => {
    const env = (service: string) => composeEnv(compose.services[service], simVariables)

    it('turns the "sim" profile on', () => {
      expect(simVariables.COMPOSE_PROFILES?.split(',')).toContain('sim')
    })

    it('points the workers at the simulator service, on its port and API path', () => {
      const simPort = appPort('usercom-sim', env('usercom-sim'))
      expect(env('worker').USERCOM_BASE_URL).toBe(`http://usercom-sim:${simPort}/api/public/`)
    })

    it('gives the workers an API key the simulator accepts', () => {
      const accepted = (env('usercom-sim').SIM_KEYS ?? '').split(',').map(pair => pair.split(':')[0])
      expect(accepted).toContain(env('worker').USERCOM_API_KEY)
    })

    it('is a configuration packages/config loads, for the ingest and for a worker', () => {
      for (const app of ['ingest', 'worker'] as const) {
        expect(() => loadConfig(env(app), { app })).not.toThrow()
      }
    })
  })
})

describe('Kubernetes manifests', () => {
  const configMapData = Object.assign({}, ...configMaps.map(c => c.data ?? {})) as Record<string, string>

  it('has Deployments for ingest and worker', () => {
    expect(k8sContainers.map(c => c.app).sort()).toEqual(['ingest', 'worker'])
  })

  it('starts apps with `args`, keeping the image ENTRYPOINT (tini) as PID 1', () => {
    const problems = k8sContainers.filter(c => c.container.command !== undefined).map(c => c.where)
    expect(problems).toEqual([])
  })

  it('probes liveness, readiness and startup on real routes, on the port the app listens on', () => {
    const problems: string[] = []
    for (const { where, container, app } of k8sContainers) {
      const routes = APP_ROUTES[app ?? '']
      if (!routes) {
        problems.push(`${where}: ${app} serves no routes`)
        continue
      }
      const port = appPort(app!, containerEnv(container))
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const probe = container[kind]?.httpGet
        if (!probe) {
          problems.push(`${where}: no httpGet ${kind}`)
          continue
        }
        if (!routes.paths.includes(probe.path))
          problems.push(`${where}: ${kind} ${probe.path} is not a route of ${app}`)
        const probePort =
          typeof probe.port === 'number'
            ? probe.port
            : (container.ports ?? []).find((p: any) => p.name === probe.port)?.containerPort
        if (probePort !== port)
          problems.push(`${where}: ${kind} port ${probe.port} is not ${app}'s port ${port}`)
      }
      // Liveness must not depend on Redis (a Redis outage would restart every pod); readiness does.
      if (container.livenessProbe?.httpGet?.path !== routes.live)
        problems.push(`${where}: liveness is not ${routes.live}`)
      if (container.readinessProbe?.httpGet?.path !== routes.ready)
        problems.push(`${where}: readiness is not ${routes.ready}`)
      if (!(container.ports ?? []).some((p: any) => p.containerPort === port))
        problems.push(`${where}: no containerPort ${port}`)
    }
    expect(problems).toEqual([])
  })

  it('points Prometheus scrape annotations at /metrics on the app port', () => {
    const problems: string[] = []
    for (const { where, deployment, container, app } of k8sContainers) {
      const annotations = deployment.spec.template.metadata.annotations ?? {}
      if (annotations['prometheus.io/path'] !== '/metrics') problems.push(`${where}: prometheus.io/path`)
      if (Number(annotations['prometheus.io/port']) !== appPort(app!, containerEnv(container)))
        problems.push(`${where}: prometheus.io/port`)
    }
    expect(problems).toEqual([])
  })

  it('sets CPU and memory requests and limits on every container', () => {
    const problems: string[] = []
    for (const { where, container } of k8sContainers) {
      for (const kind of ['requests', 'limits'])
        for (const resource of ['cpu', 'memory'])
          if (container.resources?.[kind]?.[resource] === undefined)
            problems.push(`${where}: ${kind}.${resource}`)
    }
    expect(problems).toEqual([])
  })

  it('runs containers as non-root without privilege escalation', () => {
    const problems: string[] = []
    for (const { where, container, pod } of k8sContainers) {
      if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot`)
      if (container.securityContext?.allowPrivilegeEscalation !== false)
        problems.push(`${where}: allowPrivilegeEscalation`)
    }
    expect(problems).toEqual([])
  })

  it('wires selectors: each Deployment selects its pods, the Service and PDBs select Deployments that exist', () => {
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v)
    const problems: string[] = []
    for (const deployment of deployments) {
      if (!matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels))
        problems.push(`${deployment.metadata.name}: selector does not match its pod labels`)
    }
    const selects = (selector: Record<string, string>) =>
      deployments.filter(d => matches(selector, d.spec.template.metadata.labels)).map(d => d.metadata.name)
    for (const service of ofKind('Service'))
      if (selects(service.spec.selector).length !== 1)
        problems.push(
          `Service ${service.metadata.name} selects ${selects(service.spec.selector).join(', ') || 'nothing'}`,
        )
    for (const pdb of ofKind('PodDisruptionBudget'))
      if (selects(pdb.spec.selector.matchLabels).length !== 1) problems.push(`PDB ${pdb.metadata.name}`)
    expect(problems).toEqual([])
    expect(ofKind('PodDisruptionBudget').length).toBeGreaterThanOrEqual(1)
  })

  it('exposes the ingest through a Service whose targetPort is the ingest container port', () => {
    const ingest = k8sContainers.find(c => c.app === 'ingest')!
    const services = ofKind('Service')
    expect(services).toHaveLength(1)
    const port = services[0].spec.ports[0]
    const target = (ingest.container.ports as any[]).find(
      p => p.name === port.targetPort || p.containerPort === port.targetPort,
    )
    expect(target?.containerPort).toBe(appPort('ingest', containerEnv(ingest.container)))
  })

  it('autoscales the ingest with an HPA and the workers with KEDA', () => {
    const hpas = ofKind('HorizontalPodAutoscaler')
    const ingest = k8sContainers.find(c => c.app === 'ingest')!.deployment.metadata.name
    expect(hpas.map(h => h.spec.scaleTargetRef)).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: ingest },
    ])
    expect(hpas[0].spec.minReplicas).toBeGreaterThanOrEqual(2)
    expect(scaledObjects.map(s => s.spec.scaleTargetRef.name)).toEqual([
      workerContainer!.deployment.metadata.name,
    ])
    // Autoscaled Deployments leave `replicas` to the autoscaler.
    expect(deployments.filter(d => d.spec.replicas !== undefined).map(d => d.metadata.name)).toEqual([])
  })

  describe('KEDA ScaledObject', () => {
    const scaledObject = scaledObjects[0]
    const trigger = scaledObject?.spec.triggers.find((t: any) => t.type === 'redis')
    const workerEnv = workerContainer ? containerEnv(workerContainer.container) : {}

    it("watches the BullMQ waiting list of the events queue under the workers' QUEUE_PREFIX", () => {
      const prefix = EnvSchema.parse(workerEnv).QUEUE_PREFIX ?? CONFIG_DEFAULTS.QUEUE_PREFIX ?? 'bull'
      // BullMQ's own key naming (classes/queue-keys), not a copy of it.
      const waitKey = new QueueKeys(prefix).toKey(EVENTS_QUEUE, 'wait')
      expect(trigger?.metadata.listName).toBe(waitKey)
      expect(trigger?.metadata.listName).toBe(`${prefix}:events:wait`)
    })

    it('reads the Redis the workers use: host, port, database and TLS of REDIS_URL', () => {
      const redisUrl = new URL(workerEnv.REDIS_URL ?? CONFIG_DEFAULTS.REDIS_URL ?? '')
      expect(trigger?.metadata.address).toBe(`${redisUrl.hostname}:${redisUrl.port || '6379'}`)
      expect(trigger?.metadata.databaseIndex ?? '0').toBe(redisUrl.pathname.replace('/', '') || '0')
      expect(trigger?.metadata.enableTLS ?? 'false').toBe(redisUrl.protocol === 'rediss:' ? 'true' : 'false')
    })

    it('takes the Redis password from an existing Secret key', () => {
      const auth = named('TriggerAuthentication', trigger?.authenticationRef?.name)
      expect(auth).toBeDefined()
      for (const ref of auth.spec.secretTargetRef) {
        expect(Object.keys(secretData(named('Secret', ref.name) ?? {}))).toContain(ref.key)
      }
    })

    it('keeps at least one worker, since delayed (backoff) and prioritized jobs are not in the watched list', () => {
      expect(scaledObject.spec.minReplicaCount).toBeGreaterThanOrEqual(1)
      expect(scaledObject.spec.maxReplicaCount).toBeGreaterThanOrEqual(scaledObject.spec.minReplicaCount)
      expect(Number(trigger?.metadata.listLength)).toBeGreaterThan(0)
    })
  })

  describe('secrets', () => {
    const secretLike = (key: string) =>
      (SECRET_VARS as readonly string[]).includes(key) ||
      key === 'REDIS_URL' ||
      /KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL|tenants\.json/i.test(key)

    it('keeps write keys, API keys, REDIS_URL and the tenants file out of ConfigMaps', () => {
      const problems: string[] = []
      for (const configMap of configMaps) {
        for (const [key, value] of Object.entries((configMap.data ?? {}) as Record<string, string>)) {
          if (secretLike(key)) problems.push(`${configMap.metadata.name}: ${key}`)
          if (/apiKey|writeKeys|redis:\/\/[^/]*@/.test(value))
            problems.push(`${configMap.metadata.name}: ${key} holds a secret`)
        }
      }
      expect(problems).toEqual([])
    })

    it('sets no secret as a literal container env value', () => {
      const problems = k8sContainers.flatMap(({ where, container }) =>
        (container.env ?? [])
          .filter((e: any) => secretLike(e.name) && e.valueFrom?.secretKeyRef === undefined)
          .map((e: any) => `${where}: ${e.name}`),
      )
      expect(problems).toEqual([])
    })

    it('refers only to Secret keys that exist', () => {
      const problems = k8sContainers.flatMap(({ where, container }) =>
        (container.env ?? [])
          .map((e: any) => e.valueFrom?.secretKeyRef)
          .filter((ref: any) => ref && !(ref.key in secretData(named('Secret', ref.name) ?? {})))
          .map((ref: any) => `${where}: ${ref.name}/${ref.key}`),
      )
      expect(problems).toEqual([])
    })

    it('mounts the tenants file from a Secret where TENANTS_FILE points', () => {
      const problems: string[] = []
      for (const { where, container, pod } of k8sContainers) {
        const file = containerEnv(container).TENANTS_FILE
        if (!file) continue
        const mount = (container.volumeMounts ?? []).find((m: any) => file.startsWith(`${m.mountPath}/`))
        const volume = (pod.volumes ?? []).find((v: any) => v.name === mount?.name)
        if (!volume?.secret) problems.push(`${where}: ${file} is not mounted from a Secret`)
        if (!containerFiles(container, pod).has(file))
          problems.push(`${where}: nothing is mounted at ${file}`)
      }
      expect(problems).toEqual([])
    })

    it('ships a tenants file that is valid but clearly a placeholder', () => {
      const tenants = secrets.map(s => secretData(s)['tenants.json']).filter(Boolean)
      expect(tenants).toHaveLength(1)
      const parsed = TenantsFileSchema.parse(JSON.parse(tenants[0]!))
      for (const tenant of parsed) {
        expect(tenant.usercom.apiKey).toMatch(/^REPLACE_/)
        for (const key of tenant.writeKeys) expect(key).toMatch(/^REPLACE_/)
      }
    })

    it('is a configuration packages/config loads, for the ingest and for a worker', () => {
      for (const { container, pod, app } of k8sContainers) {
        const files = containerFiles(container, pod)
        const readFile = (file: string) => {
          const content = files.get(file)
          if (content === undefined) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' })
          return content
        }
        expect(() => loadConfig(containerEnv(container), { app: app as AppName, readFile })).not.toThrow()
      }
    })
  })

  it('sets only variables packages/config knows in the ConfigMap', () => {
    expect(Object.keys(configMapData).filter(key => !CONFIG_VARS.has(key))).toEqual([])
  })

  it('runs one image, the one kustomization.yaml rewrites', () => {
    const images = new Set(k8sContainers.map(c => c.container.image))
    expect([...images]).toEqual(['usercom-destination'])
    expect((kustomization.images as any[]).map(i => i.name)).toEqual(['usercom-destination'])
  })
})

describe('documentation', () => {
  it('infra/README.md covers build, compose, Kubernetes, KEDA and the Redis requirements', () => {
    const readme = read('infra/README.md')
    for (const text of [
      'docker build -f infra/Dockerfile',
      'docker compose -f infra/docker-compose.yml',
      '--profile sim',
      'kubectl apply -k infra/k8s',
      'KEDA',
      'noeviction',
      'appendfsync everysec',
      'Redis Cluster',
    ]) {
      expect(readme).toContain(text)
    }
  })

  it('points only at infra files that exist', () => {
    const mentioned = [...read('infra/README.md').matchAll(/`(infra\/[^`\s]+)`/g)].map(m => m[1]!)
    expect(mentioned.filter(file => !existsSync(path(file)))).toEqual([])
  })
})
