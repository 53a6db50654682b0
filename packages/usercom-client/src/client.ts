import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { performance } from 'node:perf_hooks'
import { scrub } from '@ucd/logger'
import axios, { type AxiosInstance, type AxiosResponse } from 'axios'
import type { z } from 'zod'
import {
  UsercomBadResponseError,
  UsercomInvalidPathError,
  UsercomNetworkError,
  UsercomRejectedError,
  UsercomTimeoutError,
  errorForStatus,
  truncateResponse,
  type UsercomErrorDetails,
} from './errors'
import { parseFieldErrors } from './field-errors'
import {
  AddMemberResultSchema,
  AttributesPageSchema,
  CreateEventResultSchema,
  CreateSiteViewResultSchema,
  MergeUsersResultSchema,
  UpsertUserResultSchema,
  UserEventsPageSchema,
  UsercomCompanySchema,
  UsercomUserSchema,
  type UsercomAttribute,
  UsercomAttributeSchema,
} from './schemas'

import {
  ENDPOINTS,
  type UsercomClient,
  type UsercomClientOptions,
  type UsercomEndpoint,
  type UsercomResponseInfo,
} from './api'
import { customIdSegment, encodePathSegment, idSegment } from './paths'

export type { RateLimiter, UsercomClient, UsercomClientOptions, UsercomResponseInfo } from './api'
export { unsafePathReason } from './paths'

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_SOCKETS = 256

interface Call<S extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT'
  endpoint: UsercomEndpoint
  /** Relative to the base URL (no leading slash), or a full URL on the same origin (`next` links). */
  url: string
  body?: unknown
  schema: S
}

/** One axios instance per tenant: base URL, Token auth, version header, keep-alive pool, timeout. */
export function createUsercomClient(options: UsercomClientOptions): UsercomClient {
  const baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`
  const origin = new URL(baseUrl).origin
  const basePath = new URL(baseUrl).pathname
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS
  const secrets = [options.apiKey]
  const agentOptions = {
    keepAlive: true,
    maxSockets,
    maxFreeSockets: Math.min(maxSockets, 256),
    scheduling: 'lifo' as const,
  }
  const httpAgent = new HttpAgent(agentOptions)
  const httpsAgent = new HttpsAgent(agentOptions)

  const http: AxiosInstance = axios.create({
    baseURL: baseUrl,
    headers: {
      Authorization: `Token ${options.apiKey}`,
      Accept: '*/*; version=2',
      'Content-Type': 'application/json',
    },
    httpAgent,
    httpsAgent,
    timeout: timeoutMs,
    maxRedirects: 0,
    responseType: 'text',
    // Keep the raw text: parsed here (success) or kept, truncated, for the DLQ record (failure).
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    proxy: false,
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
  })

  const report = (info: UsercomResponseInfo): void => {
    try {
      options.onResponse?.(info)
    } catch {
      // A metrics hook must never change the outcome of a call.
    }
  }

  const scrubbedText = (data: unknown): string | undefined => {
    if (data === undefined || data === null || data === '') return undefined
    const text = typeof data === 'string' ? data : JSON.stringify(data)
    return scrub(text, { secrets }) as string
  }
  const responseText = (data: unknown): string | undefined => {
    const text = scrubbedText(data)
    return text === undefined ? undefined : truncateResponse(text)
  }
  /** A failure's body: the truncated text, and the fields a 400 named (read from the whole text). */
  const failureBody = (
    status: number,
    data: unknown,
  ): Pick<UsercomErrorDetails, 'response' | 'fieldErrors'> => {
    const text = scrubbedText(data)
    if (text === undefined) return {}
    const fieldErrors = status === 400 ? parseFieldErrors(text) : undefined
    return { response: truncateResponse(text), ...(fieldErrors === undefined ? {} : { fieldErrors }) }
  }

  async function send<S extends z.ZodType>(call: Call<S>): Promise<AxiosResponse<unknown>> {
    if (/^https?:\/\//i.test(call.url) && new URL(call.url).origin !== origin) {
      // Never send the API key to another host, whatever a response links to.
      throw new UsercomBadResponseError({ endpoint: call.endpoint, status: 200 }, 'a link to another host')
    }
    if (
      !/^https?:\/\//i.test(call.url) &&
      new URL(call.url, baseUrl).pathname !== `${basePath}${call.url.split('?')[0]}`
    ) {
      // The last guard: whatever the segments were, the request goes to the path that was built.
      throw new UsercomInvalidPathError({ endpoint: call.endpoint }, `the path "${call.url}"`)
    }
    await options.rateLimiter?.acquire()
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    const started = performance.now()
    try {
      const response = await http.request<unknown>({
        method: call.method,
        url: call.url,
        ...(call.body === undefined ? {} : { data: JSON.stringify(call.body) }),
        signal: controller.signal,
      })
      report({ endpoint: call.endpoint, status: response.status, durationMs: performance.now() - started })
      return response
    } catch (error) {
      // Only the facts leave this block: an axios error carries the request config and headers.
      const code = (error as { code?: unknown }).code
      const isTimeout = timedOut || code === 'ETIMEDOUT' || code === 'ECONNABORTED'
      const durationMs = performance.now() - started
      report({ endpoint: call.endpoint, status: isTimeout ? 'timeout' : 'network', durationMs })
      const details: UsercomErrorDetails = { endpoint: call.endpoint }
      if (isTimeout) throw new UsercomTimeoutError(details, timeoutMs)
      throw new UsercomNetworkError(details, typeof code === 'string' ? code : undefined)
    } finally {
      clearTimeout(timer)
    }
  }

  async function request<S extends z.ZodType>(call: Call<S>, notFoundIsNull: true): Promise<z.infer<S> | null>
  async function request<S extends z.ZodType>(call: Call<S>, notFoundIsNull?: false): Promise<z.infer<S>>
  async function request<S extends z.ZodType>(
    call: Call<S>,
    notFoundIsNull = false,
  ): Promise<z.infer<S> | null> {
    const response = await send(call)
    const { status } = response
    if (status >= 200 && status < 300) {
      // Only an error keeps the (scrubbed) text: a success does not pay for it.
      const details = (): UsercomErrorDetails => ({
        endpoint: call.endpoint,
        status,
        response: responseText(response.data),
      })
      let json: unknown
      try {
        json =
          typeof response.data === 'string' && response.data !== '' ? JSON.parse(response.data) : undefined
      } catch {
        throw new UsercomBadResponseError(details(), 'not JSON')
      }
      const parsed = call.schema.safeParse(json)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw new UsercomBadResponseError(
          details(),
          `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
        )
      }
      return parsed.data
    }
    if (status === 404 && notFoundIsNull) return null
    const retryAfter = response.headers['retry-after'] as unknown
    throw errorForStatus(
      { endpoint: call.endpoint, status, ...failureBody(status, response.data) },
      typeof retryAfter === 'string' ? retryAfter : undefined,
    )
  }

  return {
    baseUrl,
    upsertUser: body =>
      request({
        method: 'POST',
        endpoint: ENDPOINTS.upsertUser,
        url: 'users/update_or_create/',
        body,
        schema: UpsertUserResultSchema,
      }),
    getUser: async id =>
      request(
        {
          method: 'GET',
          endpoint: ENDPOINTS.getUser,
          url: `users/${idSegment(id, ENDPOINTS.getUser)}/`,
          schema: UsercomUserSchema,
        },
        true,
      ),
    getUserByCustomId: async customId =>
      request(
        {
          method: 'GET',
          endpoint: ENDPOINTS.getUserByCustomId,
          url: `users-by-id/${customIdSegment(customId, ENDPOINTS.getUserByCustomId)}/`,
          schema: UsercomUserSchema,
        },
        true,
      ),
    listUserEvents: (customId, listOptions = {}) =>
      request(
        {
          method: 'GET',
          endpoint: ENDPOINTS.listUserEvents,
          url: listOptions.page ?? `users-by-id/${encodePathSegment(customId)}/events/`,
          schema: UserEventsPageSchema,
        },
        true,
      ),
    async listAttributes() {
      const all: UsercomAttribute[] = []
      let url: string | null = 'attributes/'
      const seen = new Set<string>()
      while (url !== null) {
        if (seen.has(url)) {
          throw new UsercomBadResponseError(
            { endpoint: ENDPOINTS.listAttributes, status: 200 },
            'a `next` loop',
          )
        }
        seen.add(url)
        const page: z.infer<typeof AttributesPageSchema> = await request({
          method: 'GET',
          endpoint: ENDPOINTS.listAttributes,
          url,
          schema: AttributesPageSchema,
        })
        all.push(...page.results)
        url = page.next
      }
      return all
    },
    createAttribute: body =>
      request({
        method: 'POST',
        endpoint: ENDPOINTS.createAttribute,
        url: 'attributes/',
        body,
        schema: UsercomAttributeSchema,
      }),
    createEvent: body =>
      request({
        method: 'POST',
        endpoint: ENDPOINTS.createEvent,
        url: 'events/',
        body,
        schema: CreateEventResultSchema,
      }),
    createSiteView: body =>
      request({
        method: 'POST',
        endpoint: ENDPOINTS.createSiteView,
        url: 'site-views/',
        body,
        schema: CreateSiteViewResultSchema,
      }),
    createCompany: body =>
      request({
        method: 'POST',
        endpoint: ENDPOINTS.createCompany,
        url: 'companies/',
        body,
        schema: UsercomCompanySchema,
      }),
    getCompanyByCustomId: async customId =>
      request(
        {
          method: 'GET',
          endpoint: ENDPOINTS.getCompanyByCustomId,
          url: `companies-by-id/${customIdSegment(customId, ENDPOINTS.getCompanyByCustomId)}/`,
          schema: UsercomCompanySchema,
        },
        true,
      ),
    updateCompanyByCustomId: async (customId, body) =>
      request(
        {
          method: 'PUT',
          endpoint: ENDPOINTS.updateCompanyByCustomId,
          url: `companies-by-id/${customIdSegment(customId, ENDPOINTS.updateCompanyByCustomId)}/`,
          body,
          schema: UsercomCompanySchema,
        },
        true,
      ),
    addCompanyMember: async (companyId, body) =>
      request({
        method: 'POST',
        endpoint: ENDPOINTS.addCompanyMember,
        url: `companies/${idSegment(companyId, ENDPOINTS.addCompanyMember)}/add_member/`,
        body,
        schema: AddMemberResultSchema,
      }),
    async mergeUsers(parentId, childIds) {
      const endpoint = ENDPOINTS.mergeUsers
      const parent = Number(idSegment(parentId, endpoint))
      const children = childIds.map(id => Number(idSegment(id, endpoint)))
      if (children.length === 0 || children.includes(parent) || new Set(children).size !== children.length) {
        throw new UsercomRejectedError({
          endpoint,
          response: 'merge needs other, distinct users than the parent',
        })
      }
      return request({
        method: 'POST',
        endpoint,
        url: 'users/merge/',
        body: { parent, users_list: children },
        schema: MergeUsersResultSchema,
      })
    },
    close() {
      httpAgent.destroy()
      httpsAgent.destroy()
    },
  }
}
