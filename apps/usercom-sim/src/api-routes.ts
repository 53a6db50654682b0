import type { FastifyRequest } from 'fastify'
import { createAttribute, listAttributes } from './attributes'
import {
  addMember,
  createCompany,
  getCompany,
  getCompanyByCustomId,
  updateCompanyByCustomId,
  updateCompanyById,
} from './companies'
import { createEvent, createEventByCustomId, listUserEvents } from './events'
import { mergeUsers } from './merge'
import type { ApiResult } from './results'
import { createSiteView } from './site-views'
import type { AppData } from './store'
import { getUser, getUserByCustomId, upsertUser, userById } from './users'

// The API routes (relative to the base path; every path ends with `/`) and their handlers.

export interface Listing {
  /** Results per page of `GET /attributes/`. */
  pageSize: number
  /** Results per page of the event listings. */
  eventPageSize: number
  basePath: string
}

export type Handler = (data: AppData, request: FastifyRequest, listing: Listing) => ApiResult
export type ApiRoute = [method: 'GET' | 'POST' | 'PUT', route: string, handler: Handler]

const param = (request: FastifyRequest, name: string): string =>
  (request.params as Record<string, string | undefined>)[name] ?? ''
const query = (request: FastifyRequest, name: string): string | undefined =>
  (request.query as Record<string, string | undefined>)[name]
const origin = (request: FastifyRequest): string => `${request.protocol}://${request.host}`
/** The full URL of this request's path (as the client encoded it) with `?cursor=`. */
const cursorUrl =
  (request: FastifyRequest) =>
  (cursor: string): string =>
    `${origin(request)}${request.url.split('?')[0] ?? ''}?cursor=${cursor}`

export const API_ROUTES: readonly ApiRoute[] = [
  ['POST', '/users/update_or_create/', (d, r) => upsertUser(d, r.body)],
  ['POST', '/users/merge/', (d, r) => mergeUsers(d, r.body)],
  ['GET', '/users/:id/', (d, r) => getUser(d, param(r, 'id'))],
  [
    'GET',
    '/users/:id/events/',
    (d, r, l) =>
      listUserEvents(d, userById(d, param(r, 'id')), query(r, 'cursor'), l.eventPageSize, cursorUrl(r)),
  ],
  ['GET', '/users-by-id/:custom_id/', (d, r) => getUserByCustomId(d, param(r, 'custom_id'))],
  [
    'GET',
    '/users-by-id/:custom_id/events/',
    (d, r, l) =>
      listUserEvents(
        d,
        d.usersByCustomId.get(param(r, 'custom_id')),
        query(r, 'cursor'),
        l.eventPageSize,
        cursorUrl(r),
      ),
  ],
  [
    'POST',
    '/users-by-id/:custom_id/events/',
    (d, r) => createEventByCustomId(d, param(r, 'custom_id'), r.body),
  ],
  [
    'GET',
    '/attributes/',
    (d, r, l) =>
      listAttributes(d, query(r, 'page'), l.pageSize, n => `${origin(r)}${l.basePath}/attributes/?page=${n}`),
  ],
  ['POST', '/attributes/', (d, r) => createAttribute(d, r.body)],
  ['POST', '/events/', (d, r) => createEvent(d, r.body)],
  ['POST', '/site-views/', (d, r) => createSiteView(d, r.body)],
  ['POST', '/companies/', (d, r) => createCompany(d, r.body)],
  ['GET', '/companies/:id/', (d, r) => getCompany(d, param(r, 'id'))],
  ['PUT', '/companies/:id/', (d, r) => updateCompanyById(d, param(r, 'id'), r.body)],
  ['GET', '/companies-by-id/:custom_id/', (d, r) => getCompanyByCustomId(d, param(r, 'custom_id'))],
  [
    'PUT',
    '/companies-by-id/:custom_id/',
    (d, r) => updateCompanyByCustomId(d, param(r, 'custom_id'), r.body),
  ],
  ['POST', '/companies/:id/add_member/', (d, r) => addMember(d, param(r, 'id'), r.body)],
]
