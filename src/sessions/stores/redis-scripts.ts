/**
 * Lua scripts that make the Redis store's conditional writes atomic. The stamp (version and
 * created_at) of a stored value is read as storedStamp() in the codec reads it: from the
 * canonical head, else from the decoded JSON; version 0 when there is no value, -1 when it
 * cannot be read. No script reads more of a value than the size limit it is given, so a huge
 * value never ties up the server.
 */
import { type CommandParser, defineScript } from '@redis/client';
import { HEAD_BYTES } from '../codec.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../types.js';

// Every export is a script: the module is the client's `scripts` option.

/** The stamp of a value (or of its head, when that holds the canonical version): created_at
 * is looked for in its first `headBytes` bytes, as the codec looks for it. */
const STORED_STAMP = `
local function stamp(current, headBytes)
  if not current then return 0, '' end
  local head = string.sub(current, 1, headBytes)
  local version = string.match(head, '^{"schema_version":%d+,"version":(%d+),')
  if version then
    return tonumber(version), (string.match(head, '"created_at":"([^"]*)"') or '')
  end
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
 * KEYS[1] session; ARGV value, ttl, min, max, created_at ('' for any), size limit, head length
 * -> {outcome, stored version}; outcome 1 written, 2 identical, 0 conflict.
 *
 * It reads the stored head (GETRANGE of the head length). A head the codec wrote, with its
 * write id before created_at, decides alone: its version, its created_at, and its write id,
 * which stands at the same place in the new value only when that is the very value stored
 * (every encoding draws a new one): identical. (Found with plain searches: Lua's patterns cost
 * about 3 µs on a whole head.) Any other value is read as before write ids: its version from a
 * canonical head, else from the whole value (never one over the size limit: unreadable, -1),
 * and it is identical only when it equals the new value byte for byte.
 */
export const setIf = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local headBytes = tonumber(ARGV[7])
local head = redis.pcall('GETRANGE', KEYS[1], 0, headBytes - 1)
if type(head) == 'table' and head['err'] then return {0, -1} end
local version = string.match(head, '^{"schema_version":%d+,"version":(%d+),')
local written = version and string.find(head, ',"write_id":"', 1, true)
local ends = written and string.find(head, '","created_at":"', written, true)
local created
if ends then
  version = tonumber(version)
  if string.sub(head, written, ends) == string.sub(ARGV[1], written, ends) then
    return {2, version}
  end
  created = string.match(head, '^[^"]*', ends + 16)
else
  ${STORED_STAMP}
  local size = nil
  local function length()
    if size == nil then size = redis.call('STRLEN', KEYS[1]) end
    return size
  end
  local current = nil
  local function whole()
    if current == nil then current = redis.call('GET', KEYS[1]) end
    return current
  end
  if version then
    version, created = stamp(head, headBytes)
  elseif length() > tonumber(ARGV[6]) then
    version, created = -1, ''
  else
    version, created = stamp(whole(), headBytes)
  end
  if head == string.sub(ARGV[1], 1, headBytes) and length() == #ARGV[1] and whole() == ARGV[1] then
    return {2, version}
  end
end
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
    maxValueBytes = DEFAULT_MAX_VALUE_BYTES,
    headBytes = HEAD_BYTES,
  ) {
    parser.pushKey(key);
    parser.push(
      value,
      String(ttl),
      String(min),
      String(max),
      createdAt,
      String(maxValueBytes),
      String(headBytes),
    );
  },
  transformReply: (reply: unknown) => reply as [number, number],
});

/**
 * The save of a session as it was read: KEYS[1] session; ARGV value, the first bytes of the value
 * the writer read (through its write id: see codec writeStamp), ttl -> 1 written, 0 not decided
 * here (the key holds something else: a newer version, the very value already, another type or
 * nothing), for setIf to decide with its reasons. As cheap as a compare-and-set can be: one
 * GETRANGE of those bytes, one comparison.
 */
export const setIfStamp = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
if redis.pcall('GETRANGE', KEYS[1], 0, #ARGV[2] - 1) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`,
  parseCommand(parser: CommandParser, key: string, value: string, stamp: string, ttl: number) {
    parser.pushKey(key);
    parser.push(value, stamp, String(ttl));
  },
  transformReply: (reply: unknown) => reply as number,
});

/** Whether a string is UTF-8 by the same rules as Node's buffer.isUtf8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF); ASCII runs are skipped with one find. */
const IS_UTF8 = `
local HIGH = '[' .. string.char(128) .. '-' .. string.char(255) .. ']'
local function isUtf8(s)
  local i = 1
  while true do
    i = string.find(s, HIGH, i)
    if not i then return true end
    local c, b = string.byte(s, i, i + 1)
    local n, low, high = 0, 128, 191
    if c >= 194 and c <= 223 then n = 1
    elseif c >= 224 and c <= 239 then
      n = 2
      if c == 224 then low = 160 elseif c == 237 then high = 159 end
    elseif c >= 240 and c <= 244 then
      n = 3
      if c == 240 then low = 144 elseif c == 244 then high = 143 end
    else return false end
    if not b or b < low or b > high then return false end
    for j = i + 2, i + n do
      local x = string.byte(s, j)
      if not x or x < 128 or x > 191 then return false end
    end
    i = i + n + 1
  end
end
`;

/**
 * KEYS[1] session, KEYS[2] its quarantine key (same slot); ARGV[1] 'value' with ARGV[2] the
 * value that was read, or 'refused' with ARGV[2] the size limit (the store refused to read the
 * value: another Redis type, larger than the limit, or not UTF-8); ARGV[3] how long to keep it
 * (ms). Moves the value with RENAME (O(1) whatever its size) only if the key still holds what
 * was judged unreadable; returns 'moved', 'gone' (no key) or 'replaced' (something else is
 * there now).
 */
export const moveAside = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `${IS_UTF8}
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return 'gone' end
local unreadable
if ARGV[1] == 'value' then
  unreadable = kind == 'string' and redis.call('STRLEN', KEYS[1]) == #ARGV[2]
    and redis.call('GET', KEYS[1]) == ARGV[2]
else
  unreadable = kind ~= 'string' or redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[2])
    or not isUtf8(redis.call('GET', KEYS[1]))
end
if not unreadable then return 'replaced' end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 'moved'`,
  parseCommand(
    parser: CommandParser,
    key: string,
    target: string,
    read: { value: string } | { refusedOver: number },
    keepMs: number,
  ) {
    parser.pushKey(key);
    parser.pushKey(target);
    if ('value' in read) parser.push('value', read.value);
    else parser.push('refused', String(read.refusedOver));
    parser.push(String(keepMs));
  },
  transformReply: (reply: unknown) => reply as 'moved' | 'gone' | 'replaced',
});
