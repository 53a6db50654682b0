import { MAX_URL_LENGTH, cutText } from './limits'
import { httpUrl, isObject, textOf } from './util'
import type { Dropped, Operation } from './operations'
import type { JsonObject } from './util'
import type { PageEvent } from '@ucd/segment'

// page → the body of POST /site-views/ (the mapping table in README.md).

type PageViewBody = Extract<Operation, { op: 'create_page_view' }>['body']

/** A relative URL that is a path on the same site (`/pricing?plan=pro`, not `//other.host/`). */
function sitePath(text: string | undefined): string | undefined {
  return text !== undefined && text.startsWith('/') && !text.startsWith('//') ? text : undefined
}

/**
 * page → the site-view body. URL, path, search, title and referrer come from `properties`, else
 * `context.page` (title falls back to the page name). The domain is the origin of the absolute
 * http(s) URL; without one, the tenant's `pageDomain` when the page has a path (server-side calls
 * often send only a path); else undefined, reported in `dropped`.
 */
export function mapPageView(
  event: PageEvent,
  dropped: Dropped[],
  pageDomain: string | undefined,
): PageViewBody | undefined {
  const properties = event.properties
  const page: JsonObject = isObject(event.context.page) ? event.context.page : {}
  const fromProperties = textOf(properties.url)
  const urlText = fromProperties ?? textOf(page.url)
  const urlField = fromProperties === undefined ? 'context.page.url' : 'properties.url'
  const url = httpUrl(urlText)
  const pathFromProperties = textOf(properties.path)
  const explicitPath = pathFromProperties ?? textOf(page.path)
  const pathField = pathFromProperties === undefined ? 'context.page.path' : 'properties.path'

  let domain: string
  let path: string
  let search: string
  let field: string
  const explicitSearch = () => textOf(properties.search) ?? textOf(page.search) ?? ''
  if (url !== undefined) {
    domain = url.origin
    path = explicitPath ?? url.pathname
    search = explicitPath === undefined ? url.search : explicitSearch()
    field = explicitPath === undefined ? urlField : pathField
  } else if (pageDomain !== undefined && (explicitPath ?? sitePath(urlText)) !== undefined) {
    // A path without a site: the tenant's site (pageDomain). A relative URL counts as a path.
    domain = pageDomain
    path = explicitPath ?? sitePath(urlText) ?? '/'
    search = explicitPath === undefined ? '' : explicitSearch()
    field = explicitPath === undefined ? urlField : pathField
  } else {
    dropped.push({
      field: urlField,
      reason:
        pageDomain === undefined
          ? 'no page view: it needs an absolute http(s) URL (properties.url or context.page.url)'
          : "no page view: it needs an absolute http(s) URL, or a path on the tenant's pageDomain",
    })
    return undefined
  }
  const fullPath = `${path.startsWith('/') ? '' : '/'}${path}${search === '' || search.startsWith('?') ? '' : '?'}${search}`
  const body: PageViewBody = {
    page_domain: domain,
    page_path: cutText(fullPath, MAX_URL_LENGTH, field, 'page_path', dropped),
    timestamp: event.timestamp,
  }
  const title = textOf(properties.title) ?? textOf(page.title) ?? textOf(event.name)
  const referrerFromProperties = textOf(properties.referrer)
  const referrer = referrerFromProperties ?? textOf(page.referrer)
  if (title !== undefined) body.page_title = title
  if (referrer !== undefined) {
    const referrerField =
      referrerFromProperties === undefined ? 'context.page.referrer' : 'properties.referrer'
    body.referrer = cutText(referrer, MAX_URL_LENGTH, referrerField, 'referrer', dropped)
  }
  return body
}
