import type { TenantRegistry } from '@ucd/config'
import type { FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { tenantForWriteKey, writeKeyFromHeader } from '../auth'
import '../request-state'

export interface AuthOptions {
  tenants: TenantRegistry
}

/**
 * A Basic write key is checked before the body is read (preParsing): a wrong key costs no parsing.
 * Requests without one are authenticated by the route, from `writeKey` in the body.
 */
const auth: FastifyPluginCallback<AuthOptions> = (app, { tenants }, done) => {
  app.addHook('preParsing', (request, _reply, payload, next) => {
    const route = request.routeOptions.config.ingest
    const headerKey = writeKeyFromHeader(request.headers.authorization)
    if (route === undefined || route.kind === 'metrics' || headerKey === undefined) {
      next(null, payload)
      return
    }
    try {
      request.ingest = { ...request.ingest, tenant: tenantForWriteKey(tenants, headerKey) }
      next(null, payload)
    } catch (error) {
      next(error as Error, payload)
    }
  })
  done()
}

export default fp(auth, { name: 'ingest-auth', fastify: '5.x' })
