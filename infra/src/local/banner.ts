import type { Config } from '@ucd/config'
import { curlLine, envLine } from './plan'
import type { StackInfo } from './stack-info'

// The banner `npm start` prints once the local stack is up: where to send events and where to look.

/** Prints the banner with `say`; `shown` makes a path relative to the working directory when shorter. */
export function printBanner(
  say: (line?: string) => void,
  shown: (path: string) => string,
  info: StackInfo,
  infoPath: string,
  workerConfig: Config,
): void {
  const rule = '─'.repeat(78)
  const firstKey = info.tenants.find(t => t.writeKeys.length > 0)
  const redisHasPassword = (() => {
    try {
      return new URL(info.redis.url).password !== ''
    } catch {
      return false
    }
  })()
  const admin = redisHasPassword
    ? `REDIS_URL="$REDIS_URL" QUEUE_PREFIX=${info.queuePrefix}`
    : envLine(info.adminEnv)
  const row = (label: string, value: string): string => ` ${label.padEnd(24)} ${value}`
  say()
  say(rule)
  say(
    ` usercom-destination is running: ${info.mode === 'simulator' ? 'the User.com simulator' : 'a real User.com'}, ingest, ${info.workers.length} workers`,
  )
  say()
  say(row('Ingest endpoint', info.ingest.url))
  for (const tenant of info.tenants) {
    say(
      row(
        tenant === info.tenants[0] ? 'Write keys' : '',
        `${tenant.writeKeys.join(', ') || '(none)'}   (tenant ${tenant.id})`,
      ),
    )
  }
  if (firstKey?.writeKeys[0]) {
    say()
    say(` Send an event (tenant ${firstKey.id}):`)
    say(`   ${curlLine(info.ingest.url, firstKey.writeKeys[0])}`)
  }
  say()
  say(' Where to look')
  if (info.simulator) {
    say(
      row(
        '  User.com (simulator)',
        `${info.simulator.origin}/__sim/state   (one tenant: ?app=${info.tenants[0]?.id ?? 'acme'})`,
      ),
    )
  } else {
    say(row('  User.com', `${workerConfig.tenants.list.map(t => t.usercom?.baseUrl ?? '?').join(', ')}`))
  }
  say(row('  Metrics', `${info.ingest.metricsUrl}/metrics   (ingest)`))
  for (const worker of info.workers) say(row('', `${worker.metricsUrl}/metrics   (${worker.name})`))
  say(row('  Queue stats', `${admin} pnpm admin stats`))
  say(row('  Dead-letter queue', `${admin} pnpm admin dlq list`))
  if (info.simulator) say(row('  Demo', 'pnpm demo   (in another terminal)'))
  say(row('  Settings', shown(infoPath)))
  say()
  say(' Ctrl-C stops everything.')
  say(rule)
}
