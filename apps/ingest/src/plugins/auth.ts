import type { TenantRegistry } from '@ucd/config'
import type { FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { KnownKeys, tenantForWriteKey, writeKeyFromHeader } from '../auth'
import { ingestRouteOf } from '../request-state'

export interface AuthOptions {
  tenants: TenantRegistry
}

/**
 * A Basic write key is checked before the body is read (preParsing): a wrong key costs no parsing.
 * Requests without one are authenticated by the route, from `writeKey` in the body.
 */
const auth: FastifyPluginCallback<AuthOptions> = (app, { tenants }, done) => {
  // Authorization headers that carried a known key: a browser sends the same one on every request.
  const knownHeaders = new KnownKeys()
  app.addHook('preParsing', (request, _reply, payload, next) => {
    const route = ingestRouteOf(request)
    const header = request.headers.authorization
    if (route === undefined || route.kind === 'metrics' || header === undefined) {
      next(null, payload)
      return
    }
    const known = knownHeaders.get(header)
    if (known !== undefined) {
      ;(request.ingest ??= {}).tenant = known
      next(null, payload)
      return
    }
    const headerKey = writeKeyFromHeader(header)
    if (headerKey === undefined) {
      next(null, payload)
      return
    }
    try {
      const tenant = tenantForWriteKey(tenants, headerKey)
      knownHeaders.remember(header, tenant)
      ;(request.ingest ??= {}).tenant = tenant
      next(null, payload)
    } catch (error) {
      next(error as Error, payload)
    }
  })
  done()
}

export default fp(auth, { name: 'ingest-auth', fastify: '5.x' })
