import { COMPANY_FIELDS, COMPANY_READ_ONLY, MAX_STRING } from './fields'
import { Problems, badRequest, notAnObject, notFound, ok, parseId, type ApiResult } from './results'
import type { SimCompany } from './schema'
import type { AppData } from './store'
import { charLength, isPlainObject } from './values'

// Companies (usercom-api.md §6): create, get and update by id or by custom id, and add_member.

const DUPLICATE = 'Company with this custom_id already exists.'

function companyView(company: SimCompany): Record<string, unknown> {
  const { attributes, members, tags, ...rest } = company
  return { ...rest, ...attributes, tags: tags.map(name => ({ name })), employees: [...members] }
}

/** Checks a company body (every problem at once); `current`: the company a PUT updates. */
function checkCompany(
  data: AppData,
  body: Record<string, unknown>,
  current: SimCompany | undefined,
  errors: Problems,
): Record<string, unknown> {
  const custom = data.checkBody('company', body, COMPANY_FIELDS, COMPANY_READ_ONLY, errors)
  const cid = body.custom_id
  if (cid === undefined) {
    if (!current) errors.add('custom_id', 'This field is required.')
  } else if (typeof cid !== 'string' || cid.length === 0) {
    errors.add('custom_id', 'Must be a non-empty string.')
  } else if (charLength(cid) > MAX_STRING) {
    errors.add('custom_id', `Ensure this field has no more than ${MAX_STRING} characters.`)
  } else if (cid !== current?.custom_id && data.companiesByCustomId.has(cid)) {
    errors.add('custom_id', DUPLICATE)
  }
  return custom
}

function applyCompany(
  data: AppData,
  company: SimCompany,
  body: Record<string, unknown>,
  custom: Record<string, unknown>,
): void {
  data.applyStandard(company, body, COMPANY_FIELDS)
  Object.assign(company.attributes, custom)
  company.updated_at = data.nowIso()
  for (const memberId of company.members) {
    const membership = data.users.get(memberId)?.companies.find(c => c.id === company.id)
    if (membership) membership.name = company.name
  }
}

/** `POST /companies/`: `201` the company. */
export function createCompany(data: AppData, body: unknown): ApiResult {
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const custom = checkCompany(data, body, undefined, errors)
  if (errors.any()) return errors.result()
  const customId = body.custom_id as string
  const now = data.nowIso()
  const company: SimCompany = {
    id: data.nextId.company++,
    custom_id: customId,
    name: null,
    description: null,
    email: null,
    size: null,
    phone_numbers: [],
    address: null,
    city: null,
    region: null,
    country: null,
    postal_code: null,
    assigned_to: null,
    tags: [],
    attributes: {},
    members: [],
    created_at: now,
    updated_at: now,
  }
  applyCompany(data, company, body, custom)
  data.companies.set(company.id, company)
  data.companiesByCustomId.set(customId, company)
  return ok(companyView(company), 201)
}

/** `PUT /companies/:id/` and `PUT /companies-by-id/:custom_id/`: a partial update. */
function updateCompany(data: AppData, company: SimCompany | undefined, body: unknown): ApiResult {
  if (!company) return notFound()
  if (!isPlainObject(body)) return notAnObject()
  const errors = new Problems()
  const custom = checkCompany(data, body, company, errors)
  if (errors.any()) return errors.result()
  const newCustomId = body.custom_id as string | undefined
  if (newCustomId !== undefined && newCustomId !== company.custom_id) {
    if (company.custom_id !== null) data.companiesByCustomId.delete(company.custom_id)
    company.custom_id = newCustomId
    data.companiesByCustomId.set(newCustomId, company)
  }
  applyCompany(data, company, body, custom)
  return ok(companyView(company))
}

const companyById = (data: AppData, rawId: string): SimCompany | undefined => {
  const id = parseId(rawId)
  return id === undefined ? undefined : data.companies.get(id)
}

/** `GET /companies/:id/`. */
export function getCompany(data: AppData, rawId: string): ApiResult {
  const company = companyById(data, rawId)
  return company ? ok(companyView(company)) : notFound()
}

/** `PUT /companies/:id/`. */
export const updateCompanyById = (data: AppData, rawId: string, body: unknown): ApiResult =>
  updateCompany(data, companyById(data, rawId), body)

/** `GET /companies-by-id/:custom_id/`. */
export function getCompanyByCustomId(data: AppData, customId: string): ApiResult {
  const company = data.companiesByCustomId.get(customId)
  return company ? ok(companyView(company)) : notFound()
}

/** `PUT /companies-by-id/:custom_id/`. */
export const updateCompanyByCustomId = (data: AppData, customId: string, body: unknown): ApiResult =>
  updateCompany(data, data.companiesByCustomId.get(customId), body)

/** `POST /companies/:id/add_member/`: `200 {company_id, user_id, user_custom_id, added}`; idempotent. */
export function addMember(data: AppData, rawId: string, body: unknown): ApiResult {
  const company = companyById(data, rawId)
  if (!company) return notFound('Company not found.')
  if (!isPlainObject(body)) return notAnObject()
  const { user_id: userId, user_custom_id: userCustomId } = body
  const errors = new Problems()
  if (userId !== undefined && (typeof userId !== 'number' || !Number.isSafeInteger(userId))) {
    errors.add('user_id', 'A valid integer is required.')
  }
  if (userCustomId !== undefined && typeof userCustomId !== 'string') {
    errors.add('user_custom_id', 'Not a valid string.')
  }
  if (userId === undefined && userCustomId === undefined) {
    errors.add('user_id', 'user_id or user_custom_id is required.')
  }
  errors.unknown(body, ['user_id', 'user_custom_id'])
  if (errors.any()) return errors.result()
  const user =
    typeof userId === 'number' ? data.users.get(userId) : data.usersByCustomId.get(userCustomId as string)
  if (!user) return notFound('User not found.')
  if (typeof userId === 'number' && typeof userCustomId === 'string' && user.custom_id !== userCustomId) {
    return badRequest({ user_custom_id: ['Does not match the user with this user_id.'] })
  }
  const added = data.join(company, user, data.nowIso())
  return ok({ company_id: company.id, user_id: user.id, user_custom_id: user.custom_id, added })
}
