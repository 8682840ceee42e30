/**
 * Lua scripts that make the Redis store's conditional writes atomic. The version of a stored
 * value is read as storedVersion() in the codec reads it: from the canonical head, else from
 * the decoded JSON; 0 when there is no value, -1 when it cannot be read.
 */
import { type CommandParser, defineScript } from '@redis/client';

const STORED_VERSION = `
local function stored_version(current)
  if not current then return 0 end
  local head = string.match(current, '^{"schema_version":%d+,"version":(%d+),')
  if head then return tonumber(head) end
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' then
    local v = tonumber(decoded['version'])
    if v and v >= 0 and math.floor(v) == v then return v end
  end
  return -1
end
`;

/** KEYS[1] session; ARGV value, ttl, min, max -> {outcome, stored version}; outcome 1 written,
 * 2 identical, 0 conflict. */
export const setIf = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${STORED_VERSION}
local current = redis.pcall('GET', KEYS[1])
if type(current) == 'table' and current['err'] then return {0, -1} end
if current == ARGV[1] then return {2, stored_version(current)} end
local version = stored_version(current)
if version < tonumber(ARGV[3]) or version > tonumber(ARGV[4]) then return {0, version} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return {1, version}`,
  parseCommand(
    parser: CommandParser,
    key: string,
    value: string,
    ttl: number,
    min: number,
    max: number,
  ) {
    parser.pushKey(key);
    parser.push(value, String(ttl), String(min), String(max));
  },
  transformReply: (reply: unknown) => reply as [number, number],
});

/** KEYS[1] session, KEYS[2] quarantine key; ARGV ttl. Any Redis type is moved. */
export const quarantine = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1`,
  parseCommand(parser: CommandParser, key: string, target: string, ttl: number) {
    parser.pushKeys([key, target]);
    parser.push(String(ttl));
  },
  transformReply: (reply: unknown) => reply as number,
});
