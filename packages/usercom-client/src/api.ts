import type {
  AddMemberBody,
  AddMemberResult,
  CompanyBody,
  CreateAttributeBody,
  CreateCompanyBody,
  CreateEventBody,
  CreateEventResult,
  CreateSiteViewBody,
  CreateSiteViewResult,
  MergeUsersResult,
  UpsertUserBody,
  UpsertUserResult,
  UsercomAttribute,
  UsercomCompany,
  UsercomUser,
  UserEventsPage,
} from './schemas'

// The client's contract: the calls delivery makes, their route templates, and the options and hooks of
// createUsercomClient (client.ts builds it).

/** Awaited before every request (see createRedisRateLimiter). */
export interface RateLimiter {
  acquire(): Promise<void>
}

/** What the metrics hook hears after every request. */
export interface UsercomResponseInfo {
  /** Route template, e.g. `POST /events/`. */
  endpoint: string
  status: number | 'network' | 'timeout'
  durationMs: number
}

export interface UsercomClientOptions {
  /** `https://<sub>.user.com/api/public/` or the simulator's; a missing trailing slash is added. */
  baseUrl: string
  apiKey: string
  /** Per request, from sending to the whole response; default 10 000. */
  timeoutMs?: number
  /** Bound of the keep-alive socket pool (per protocol); default 256. */
  maxSockets?: number
  rateLimiter?: RateLimiter
  onResponse?: (info: UsercomResponseInfo) => void
}

/** The User.com calls delivery makes. Every failure is a UsercomError (see errors.ts). */
export interface UsercomClient {
  readonly baseUrl: string
  /** `POST /users/update_or_create/` */
  upsertUser(body: UpsertUserBody): Promise<UpsertUserResult>
  /** `GET /users/:id/`; null when there is none (404). */
  getUser(id: number): Promise<UsercomUser | null>
  /** `GET /users-by-id/:custom_id/`; null when there is none (404). */
  getUserByCustomId(customId: string): Promise<UsercomUser | null>
  /**
   * `GET /users-by-id/:custom_id/events/`: one page of the user's event occurrences; `page` is a `next`
   * (or `previous`) link of an earlier page, followed verbatim (§1.4), on the base URL's origin only.
   * null when the user does not exist (404).
   */
  listUserEvents(customId: string, options?: { page?: string }): Promise<UserEventsPage | null>
  /** `GET /attributes/`, following `next` across every page. */
  listAttributes(): Promise<UsercomAttribute[]>
  /** `POST /attributes/` */
  createAttribute(body: CreateAttributeBody): Promise<UsercomAttribute>
  /** `POST /events/` */
  createEvent(body: CreateEventBody): Promise<CreateEventResult>
  /** `POST /site-views/` */
  createSiteView(body: CreateSiteViewBody): Promise<CreateSiteViewResult>
  /** `POST /companies/` */
  createCompany(body: CreateCompanyBody): Promise<UsercomCompany>
  /** `GET /companies-by-id/:custom_id/`; null when there is none (404). */
  getCompanyByCustomId(customId: string): Promise<UsercomCompany | null>
  /** `PUT /companies-by-id/:custom_id/` (partial update); null when there is none (404). */
  updateCompanyByCustomId(customId: string, body: CompanyBody): Promise<UsercomCompany | null>
  /** `POST /companies/:id/add_member/` (idempotent). */
  addCompanyMember(companyId: number, body: AddMemberBody): Promise<AddMemberResult>
  /**
   * `POST /users/merge/ { parent, users_list }`: the users of `childIds` are merged into `parentId` and
   * are gone afterwards (the parent's values win, then those of the lowest id). Cannot be undone.
   */
  mergeUsers(parentId: number, childIds: readonly number[]): Promise<MergeUsersResult>
  /** Destroys the keep-alive sockets. */
  close(): void
}

export const ENDPOINTS = {
  upsertUser: 'POST /users/update_or_create/',
  getUser: 'GET /users/:id/',
  getUserByCustomId: 'GET /users-by-id/:custom_id/',
  listUserEvents: 'GET /users-by-id/:custom_id/events/',
  listAttributes: 'GET /attributes/',
  createAttribute: 'POST /attributes/',
  createEvent: 'POST /events/',
  createSiteView: 'POST /site-views/',
  createCompany: 'POST /companies/',
  getCompanyByCustomId: 'GET /companies-by-id/:custom_id/',
  updateCompanyByCustomId: 'PUT /companies-by-id/:custom_id/',
  addCompanyMember: 'POST /companies/:id/add_member/',
  mergeUsers: 'POST /users/merge/',
} as const
export type UsercomEndpoint = (typeof ENDPOINTS)[keyof typeof ENDPOINTS]
