// Lua fragments shared by the consistency scripts (lock.ts, field-clocks.ts): one definition of how a
// stored clock compares, how a user's clocks are read and how a lock is given back.

/**
 * Defines `t`, `mid` and `clock` (`t:mid`) from ARGV[timeArg] and ARGV[timeArg + 1], then
 * `newer(stored)`: whether a stored clock text is newer than that clock, in the order of clock.ts
 * (event time, then messageId byte by byte; an unreadable stored clock is not newer), and
 * `storedClocks(key, fields)`: the stored clock of each field, aligned with `fields` (false when
 * none), one HMGET per 200 fields.
 */
export function clockLua(timeArg: number): string {
  return `
local t, mid = tonumber(ARGV[${timeArg}]), ARGV[${timeArg + 1}]
local clock = ARGV[${timeArg}] .. ':' .. mid
local function newer(stored)
  if stored == clock then return false end
  local colon = string.find(stored, ':', 1, true)
  if not colon then return false end
  local st = tonumber(string.sub(stored, 1, colon - 1))
  if st == nil then return false end
  if st ~= t then return st > t end
  local smid = string.sub(stored, colon + 1)
  local n = math.min(#smid, #mid)
  for i = 1, n do
    local a, b = string.byte(smid, i), string.byte(mid, i)
    if a ~= b then return a > b end
  end
  return #smid > #mid
end
local function storedClocks(key, fields)
  local out = {}
  for from = 1, #fields, 200 do
    local part = redis.call('HMGET', key, unpack(fields, from, math.min(#fields, from + 199)))
    for i = 1, #part do out[from + i - 1] = part[i] end
  end
  return out
end
local function staleFields(key, fields)
  local stored = storedClocks(key, fields)
  local stale = {}
  for i, field in ipairs(fields) do
    if stored[i] and newer(stored[i]) then stale[#stale + 1] = field end
  end
  return stale
end`
}

/** Defines `releaseIfOwned(key, token)`: deletes a lock only while `token` still owns it (1, else 0). */
export const RELEASE_LUA = `
local function releaseIfOwned(key, token)
  if redis.call('GET', key) == token then return redis.call('DEL', key) end
  return 0
end`
