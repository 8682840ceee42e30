/**
 * Lua scripts that make the Redis store's conditional writes atomic. The stamp (version and
 * created_at) of a stored value is read as storedStamp() in the codec reads it: from the
 * canonical head, else from the decoded JSON; version 0 when there is no value, -1 when it
 * cannot be read.
 */
import { type CommandParser, defineScript } from '@redis/client';

const STORED_STAMP = `
local function stamp(current)
  if not current then return 0, '' end
  local head = string.sub(current, 1, 512)
  local version = string.match(head, '^{"schema_version":%d+,"version":(%d+),')
  if version then return tonumber(version), (string.match(head, '"created_at":"([^"]*)"') or '') end
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' then
    local v = decoded['version']
    if type(v) == 'number' and v >= 0 and math.floor(v) == v then
      local created = decoded['created_at']
      return v, (type(created) == 'string' and created or '')
    end
  end
  return -1, ''
end
`;

/**
 * KEYS[1] session; ARGV value, ttl, min, max, created_at ('' for any) -> {outcome, stored
 * version}; outcome 1 written, 2 identical, 0 conflict. It reads the stored head (GETRANGE), and
 * the whole stored value only when the head is not canonical or equals the new value's head:
 * copying a whole session into Lua costs more than the rest of the script.
 */
export const setIf = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${STORED_STAMP}
local head = redis.pcall('GETRANGE', KEYS[1], 0, 511)
if type(head) == 'table' and head['err'] then return {0, -1} end
local current = nil
local function whole()
  if current == nil then current = redis.call('GET', KEYS[1]) end
  return current
end
local version, created
if string.match(head, '^{"schema_version":%d+,"version":%d+,') then
  version, created = stamp(head)
else
  version, created = stamp(whole())
end
if head == string.sub(ARGV[1], 1, 512) and whole() == ARGV[1] then return {2, version} end
if version < tonumber(ARGV[3]) or version > tonumber(ARGV[4]) then return {0, version} end
if ARGV[5] ~= '' and created ~= ARGV[5] then return {0, version} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return {1, version}`,
  parseCommand(
    parser: CommandParser,
    key: string,
    value: string,
    ttl: number,
    min: number,
    max: number,
    createdAt: string,
  ) {
    parser.pushKey(key);
    parser.push(value, String(ttl), String(min), String(max), createdAt);
  },
  transformReply: (reply: unknown) => reply as [number, number],
});

/** Whether KEYS[1] still holds ARGV[1], the unreadable value ('' for "a value that is not a
 * string"). */
const STILL_UNREADABLE = `
local function unreadable()
  local kind = redis.call('TYPE', KEYS[1])['ok']
  if kind == 'none' then return false end
  if kind == 'string' then return ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] end
  return ARGV[1] == ''
end
`;

/**
 * KEYS[1] session; ARGV the unreadable value. Its DUMP if the key still holds that, else nil:
 * the store copies exactly the unreadable value aside (RESTORE, which works across Cluster
 * slots), never a valid session written meanwhile.
 */
export const dumpIf = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${STILL_UNREADABLE}
if unreadable() then return redis.call('DUMP', KEYS[1]) end
return false`,
  parseCommand(parser: CommandParser, key: string, unreadable: string) {
    parser.pushKey(key);
    parser.push(unreadable);
  },
  transformReply: (reply: unknown) => reply as Buffer | null,
});

/** KEYS[1] session; ARGV the unreadable value. Deletes the key only if it still holds that, so a
 * valid session written meanwhile stays. */
export const deleteIf = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${STILL_UNREADABLE}
if unreadable() then redis.call('DEL', KEYS[1]) return 1 end
return 0`,
  parseCommand(parser: CommandParser, key: string, unreadable: string) {
    parser.pushKey(key);
    parser.push(unreadable);
  },
  transformReply: (reply: unknown) => reply as number,
});
