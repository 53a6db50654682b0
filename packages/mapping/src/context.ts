import { UAParser } from 'ua-parser-js'
import { isObject, textOf } from './util'
import type { AttributeInput } from './attributes'
import type { JsonObject } from './util'

// What identify takes from `context` (the destination doc: "user_agent, os, device_name,
// device_type, language, resolution, ip_address, browser_family, browser_version, timezone,
// current_url"). All but `timezone` are custom string attributes; `timezone` is a standard field.
// User.com's own user fields for some of them (`browser`, `browser_language`, `os_type`,
// `resolution`, `last_ip`) are read-only through the REST API (usercom-api.md §2.8/§2.9), and a
// custom attribute cannot be named like a standard field: so the screen goes to `screen_resolution`,
// and every other name here is one User.com's user object does not use.
// `os` and the device come from context.os / context.device when the client sent them, else from
// the user agent (ua-parser-js v1); the browser always comes from the user agent.

const text = textOf

function joined(...parts: unknown[]): string | undefined {
  const words = parts.map(text).filter((w): w is string => w !== undefined)
  return words.length === 0 ? undefined : words.join(' ')
}

interface ParsedAgent {
  browserFamily?: string
  browserVersion?: string
  os?: string
  deviceName?: string
  deviceType?: string
}

function parseAgent(userAgent: string | undefined): ParsedAgent {
  if (userAgent === undefined) return {}
  let result
  try {
    result = new UAParser(userAgent).getResult()
  } catch (_error) {
    return {}
  }
  const parsed: ParsedAgent = {}
  const browserFamily = text(result.browser.name)
  const browserVersion = text(result.browser.version)
  const os = joined(result.os.name, result.os.version)
  const deviceName = joined(result.device.vendor, result.device.model)
  // ua-parser-js leaves the type empty for desktops: a recognised browser or OS then means desktop.
  const deviceType =
    text(result.device.type) ?? (browserFamily !== undefined || os !== undefined ? 'desktop' : undefined)
  if (browserFamily !== undefined) parsed.browserFamily = browserFamily
  if (browserVersion !== undefined) parsed.browserVersion = browserVersion
  if (os !== undefined) parsed.os = os
  if (deviceName !== undefined) parsed.deviceName = deviceName
  if (deviceType !== undefined) parsed.deviceType = deviceType
  return parsed
}

export interface ContextMapping {
  attributes: AttributeInput[]
  timezone?: string
}

/** The context-derived user attributes of an identify, in a fixed order. */
export function mapContext(context: JsonObject): ContextMapping {
  const userAgent = text(context.userAgent)
  const agent = parseAgent(userAgent)
  const os = isObject(context.os) ? joined(context.os.name, context.os.version) : undefined
  const device = isObject(context.device) ? context.device : {}
  const deviceName = text(device.name) ?? joined(device.manufacturer, device.model)
  const deviceType = text(device.type)
  const screen = isObject(context.screen) ? context.screen : {}
  const width = typeof screen.width === 'number' && Number.isFinite(screen.width) ? screen.width : undefined
  const height =
    typeof screen.height === 'number' && Number.isFinite(screen.height) ? screen.height : undefined
  const page = isObject(context.page) ? context.page : {}

  const candidates: [string, string, string | undefined][] = [
    ['user_agent', 'context.userAgent', userAgent],
    ['os', os === undefined ? 'context.userAgent' : 'context.os', os ?? agent.os],
    [
      'device_name',
      deviceName === undefined ? 'context.userAgent' : 'context.device',
      deviceName ?? agent.deviceName,
    ],
    [
      'device_type',
      deviceType === undefined ? 'context.userAgent' : 'context.device.type',
      deviceType ?? agent.deviceType,
    ],
    ['language', 'context.locale', text(context.locale)],
    [
      'screen_resolution',
      'context.screen',
      width !== undefined && height !== undefined ? `${width}x${height}` : undefined,
    ],
    ['ip_address', 'context.ip', text(context.ip)],
    ['browser_family', 'context.userAgent', agent.browserFamily],
    ['browser_version', 'context.userAgent', agent.browserVersion],
    ['current_url', 'context.page.url', text(page.url)],
  ]
  const attributes: AttributeInput[] = []
  for (const [nameStd, field, value] of candidates) {
    if (value !== undefined) attributes.push({ nameStd, field, value })
  }
  const timezone = text(context.timezone)
  return timezone === undefined ? { attributes } : { attributes, timezone }
}
