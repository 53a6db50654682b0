import { truncate } from './values'
import type { Dropped } from './operations'

// Length limits of User.com fields (usercom-api.md and the team's wire contract, which the simulator
// enforces), applied before sending: a longer value is sent cut and reported in `dropped`, so one
// long value never fails the whole call. Lengths are counted in UTF-16 units and a cut never splits a
// surrogate pair, so the result is also within the limit counted in code points (as User.com does).

/** User `first_name`, `last_name`. */
export const MAX_NAME_LENGTH = 40
/**
 * User `city`, `region`, `country`; company `name`, `description`, `address`, `city`, `region`,
 * `country`, `postal_code`; each tag; event names; string attribute values.
 */
export const MAX_TEXT_LENGTH = 255
/** URLs: user `gravatar_url`, `facebook_url`, ...; a page view's `page_path` and `referrer`. */
export const MAX_URL_LENGTH = 2000

/** `text` cut to `max` characters; a cut is reported for `field` (`target` is what it was for). */
export function cutText(
  text: string,
  max: number,
  field: string,
  target: string,
  dropped: Dropped[],
): string {
  const cut = truncate(text, max)
  if (cut !== text) dropped.push({ field, reason: `truncated to ${max} characters (${target})` })
  return cut
}
