/**
 * The stored format: versioned JSON, never pickle or eval, validated on the way in.
 *
 * Keys are written in a fixed order with the small, fixed-size fields first (the "head") and
 * the unbounded ones (`problem`, `conversation_history`) last, so a listing can read only the
 * first HEAD_BYTES of each value instead of whole conversations.
 *
 * With a SessionCipher, the unbounded fields are replaced by one `sealed` field holding them
 * encrypted; the head stays readable for listings and for Redis's compare-and-set. Clear values
 * (written before encryption was turned on) are still read, and encrypted on their next save.
 *
 * Every encoding writes a fresh `write_id` in the head (before `created_at`): two stored values
 * with the same one are the same value, so a compare-and-set tells "already written" from the
 * head alone. It is a stamp for the stores, not part of the record: decoding drops it, and values
 * written without one are read as before.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AGENT_STATES } from '../agent/types.js';
import {
  SEALED_ALGORITHM,
  type Sealed,
  type SealedCharset,
  type SessionCipher,
  sealedJson,
} from './cipher.js';
import { SessionCorruptError, SessionTooLargeError } from './errors.js';
import { historyJson, rememberHistory } from './history-text.js';

export const SCHEMA_VERSION = 1;

/** Enough bytes to hold every head field of a canonical value. */
export const HEAD_BYTES = 512;

const timestamp = z.iso.datetime();
const count = z.int().min(0);

const headSchema = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  version: count,
  state: z.enum(AGENT_STATES),
  current_attempt: count,
  max_attempts: z.int().min(1),
  use_rag: z.boolean(),
  use_web_search: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
  /** When the conversation was last started over (its history cleared); null: never. Values
   * written before the field existed read as null. */
  reset_at: timestamp.nullable().default(null),
  /** SHA-256 (hex) of the session token; null: the session is reachable by its id alone (values
   * written before tokens existed, and imports of them). */
  token_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 hexadecimal digits')
    .nullable()
    .default(null),
  /** The knowledge-base guide of the first answer to the current problem (for the outcomes by
   * topic); null before an answer, after a reset, or when no guide was used. */
  topic: z.string().max(200).nullable().default(null),
});

const bodySchema = z.object({
  problem: z.string().nullable(),
  conversation_history: z.array(
    z.object({ role: z.enum(['user', 'assistant']), content: z.string(), at: timestamp }),
  ),
});

const attemptsInRange = {
  check: (r: { current_attempt: number; max_attempts: number }) =>
    r.current_attempt <= r.max_attempts,
  message: 'current_attempt is above max_attempts',
};

const recordSchema = headSchema
  .extend(bodySchema.shape)
  .refine(attemptsInRange.check, { message: attemptsInRange.message });

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const base64 = z.string().regex(BASE64, 'must be base64');
const sealedRecordSchema = headSchema
  .extend({
    write_id: z.string().optional(),
    sealed: z.object({
      alg: z.literal(SEALED_ALGORITHM),
      kid: z.string().min(1).max(64),
      iv: base64,
      tag: base64,
      charset: z.enum(['latin1', 'utf8']).optional(),
      data: base64,
    }),
  })
  .refine(attemptsInRange.check, { message: attemptsInRange.message });

/** One session as stored. */
export type SessionRecord = z.output<typeof recordSchema>;
export type SessionHead = z.output<typeof headSchema>;
/** A record to encode: the fields added later may be left out (they are written as null). */
export type SessionRecordInput = Omit<SessionRecord, 'reset_at' | 'token_sha256' | 'topic'> &
  Partial<Pick<SessionRecord, 'reset_at' | 'token_sha256' | 'topic'>>;

export interface EncodeLimits {
  /** Older messages beyond this count are dropped. */
  maxHistoryMessages: number;
  /** A value still larger than this (UTF-8 bytes) is refused. */
  maxBytes: number;
  /** Encrypts the conversation. @default none: stored in clear */
  cipher?: SessionCipher | undefined;
}

/** The head fields as stored, in canonical order: the schema's, with the write id before
 * created_at. */
const STORED_HEAD_FIELDS = Object.keys(headSchema.shape).flatMap((field) =>
  field === 'created_at' ? ['write_id', field] : [field],
);

/** The head as encodeSession writes it: also what encryption binds the body to. */
function headJson(head: SessionHead & { write_id?: string | undefined }): string {
  // An array replacer writes exactly these keys, in this order (and none that is undefined).
  return JSON.stringify(head, STORED_HEAD_FIELDS);
}

/** Serializes a record, trimming history oldest-first; throws SessionTooLargeError past maxBytes.
 * `stamp`: the value's writeStamp (read from the head alone, before the history is joined). */
export function encodeSession(
  sessionId: string,
  record: SessionRecordInput,
  limits: EncodeLimits,
): { json: string; record: SessionRecord; stamp: string | undefined } {
  const history = record.conversation_history;
  const kept =
    history.length > limits.maxHistoryMessages
      ? history.slice(history.length - limits.maxHistoryMessages)
      : history;
  // In the schema's order, head first. (Written out: spreading a head object costs about 2 µs
  // on every save, and leaving a field out of one by destructuring about as much.)
  const canonical: SessionRecord = {
    schema_version: SCHEMA_VERSION,
    version: record.version,
    state: record.state,
    current_attempt: record.current_attempt,
    max_attempts: record.max_attempts,
    use_rag: record.use_rag,
    use_web_search: record.use_web_search,
    created_at: record.created_at,
    updated_at: record.updated_at,
    reset_at: record.reset_at ?? null,
    token_sha256: record.token_sha256 ?? null,
    topic: record.topic ?? null,
    problem: record.problem,
    conversation_history: kept,
  };
  // As stored: with the write id, and the history last, as text (mostly the text it was read
  // from: see history-text.ts).
  const fields = JSON.stringify({
    schema_version: SCHEMA_VERSION,
    version: canonical.version,
    state: canonical.state,
    current_attempt: canonical.current_attempt,
    max_attempts: canonical.max_attempts,
    use_rag: canonical.use_rag,
    use_web_search: canonical.use_web_search,
    write_id: randomUUID(),
    created_at: canonical.created_at,
    updated_at: canonical.updated_at,
    reset_at: canonical.reset_at,
    token_sha256: canonical.token_sha256,
    topic: canonical.topic,
    problem: canonical.problem,
  });
  const historyText = historyJson(kept);
  let json = `${fields.slice(0, -1)},"conversation_history":${historyText}}`;
  if (limits.cipher) {
    // Split into the head and the body at the first key after the head, found in `fields` (no
    // copy of the history is made for it). A quote inside a JSON string is always escaped, so
    // `,"problem":` can only be that key.
    const at = fields.indexOf(',"problem":');
    if (at === -1) throw new TypeError(`session ${sessionId}: record without a problem field`);
    const headFields = fields.slice(0, at);
    const body = `{${fields.slice(at + 1, -1)},"conversation_history":${historyText}}`;
    const sealed = sealedJson(limits.cipher.seal(sessionId, `${headFields}}`, body));
    json = `${headFields},"sealed":${sealed}}`;
  }
  // Cheap bound first: a UTF-8 byte is at least one UTF-16 unit and at most three.
  if (json.length * 3 > limits.maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > limits.maxBytes) throw new SessionTooLargeError(sessionId, bytes, limits.maxBytes);
  }
  // Both forms start with `fields` up to the problem, and the write id comes before it.
  return { json, record: canonical, stamp: writeStamp(fields) };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`)
    .join('; ');
}

function parseJson(sessionId: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new SessionCorruptError(sessionId, 'not valid JSON', { cause: error });
  }
}

function checkSchemaVersion(sessionId: string, value: unknown): void {
  const declared = (value as { schema_version?: unknown } | null)?.schema_version;
  if (typeof value === 'object' && value !== null && declared !== SCHEMA_VERSION) {
    throw new SessionCorruptError(
      sessionId,
      `unknown schema_version ${JSON.stringify(declared) ?? 'undefined'} (this version reads ${SCHEMA_VERSION})`,
    );
  }
}

/** Parses and validates a stored value (decrypting it with `cipher` if it was encrypted); any
 * defect is a SessionCorruptError naming the session. */
export function decodeSession(
  sessionId: string,
  raw: string,
  cipher?: SessionCipher,
): SessionRecord {
  // The JSON text of the record: the value itself, or its head and decrypted body as one text.
  const opened = unsealCanonical(sessionId, raw, cipher);
  let text = opened ?? raw;
  let value = parseJson(sessionId, text);
  checkSchemaVersion(sessionId, value);
  if (opened === undefined && isPlainObject(value) && 'sealed' in value) {
    value = unseal(sessionId, value, cipher);
    text = '';
  }
  const exact = exactRecord(value);
  if (exact !== undefined) {
    rememberStoredHistory(exact, text);
    return exact;
  }
  const result = recordSchema.safeParse(value);
  if (!result.success) {
    throw new SessionCorruptError(sessionId, describeIssues(result.error), { cause: result.error });
  }
  return result.data;
}

// The checks of the schemas above, written out for values that pass them whole (see
// exactRecord); the timestamp pattern is the schema's own.
const TIMESTAMP = timestamp._zod.def.pattern ?? /^$/;
const TOKEN_SHA256 = /^[0-9a-f]{64}$/;
const STATES: ReadonlySet<unknown> = new Set(AGENT_STATES);
const ROLES: ReadonlySet<unknown> = new Set(['user', 'assistant']);
const RECORD_KEYS = Object.keys(recordSchema.shape).length;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isTimestamp = (v: unknown): v is string => typeof v === 'string' && TIMESTAMP.test(v);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Own keys of a parsed JSON object (whose prototype has none that enumerate). */
function keyCount(value: object): number {
  let count = 0;
  for (const _ in value) count++;
  return count;
}

/** Whether every head field is present and valid, as headSchema would find it (no default to
 * apply). */
function isExactHead(v: Record<string, unknown>): boolean {
  return (
    v.schema_version === SCHEMA_VERSION &&
    isCount(v.version) &&
    STATES.has(v.state) &&
    isCount(v.current_attempt) &&
    isCount(v.max_attempts) &&
    v.max_attempts >= 1 &&
    v.current_attempt <= v.max_attempts &&
    typeof v.use_rag === 'boolean' &&
    typeof v.use_web_search === 'boolean' &&
    isTimestamp(v.created_at) &&
    isTimestamp(v.updated_at) &&
    (v.reset_at === null || isTimestamp(v.reset_at)) &&
    (v.token_sha256 === null ||
      (typeof v.token_sha256 === 'string' && TOKEN_SHA256.test(v.token_sha256))) &&
    (v.topic === null || (typeof v.topic === 'string' && v.topic.length <= 200))
  );
}

/** A message of exactly its three fields, valid: the schema would return a copy of it. */
function isExactMessage(m: unknown): boolean {
  return (
    isPlainObject(m) &&
    ROLES.has(m.role) &&
    typeof m.content === 'string' &&
    isTimestamp(m.at) &&
    keyCount(m) === 3
  );
}

/**
 * The record of a parsed value holding exactly the record's fields (and perhaps the write id),
 * all valid: what recordSchema would return, built without running it (it copies every object
 * it checks); its history is the parsed array itself. Undefined for anything else, which the
 * schema then reads, completes (defaults) or refuses with its reasons.
 */
function exactRecord(value: unknown): SessionRecord | undefined {
  if (!isPlainObject(value) || !isExactHead(value)) return undefined;
  const v = value as SessionRecord & Record<string, unknown>;
  const history: unknown = v.conversation_history;
  if (
    !(v.problem === null || typeof v.problem === 'string') ||
    !Array.isArray(history) ||
    keyCount(v) !== RECORD_KEYS + ('write_id' in v ? 1 : 0) ||
    !history.every(isExactMessage)
  ) {
    return undefined;
  }
  return {
    schema_version: SCHEMA_VERSION,
    version: v.version,
    state: v.state,
    current_attempt: v.current_attempt,
    max_attempts: v.max_attempts,
    use_rag: v.use_rag,
    use_web_search: v.use_web_search,
    created_at: v.created_at,
    updated_at: v.updated_at,
    reset_at: v.reset_at,
    token_sha256: v.token_sha256,
    topic: v.topic,
    problem: v.problem,
    conversation_history: v.conversation_history,
  };
}

const HISTORY_KEY = ',"conversation_history":[';

/**
 * Remembers the stored text of a decoded history (see history-text.ts) when `text`, the JSON of
 * `record`, ends with it: the history written once, as the last field, is the text between its
 * key and the closing brace. (Were the key written twice, the later one would be the one
 * JSON.parse kept: then nothing is remembered.)
 */
function rememberStoredHistory(record: SessionRecord, text: string): void {
  if (record.conversation_history.length === 0 || !text.endsWith(']}')) return;
  const key = text.indexOf(HISTORY_KEY);
  if (key === -1 || text.indexOf('"conversation_history"', key + HISTORY_KEY.length) !== -1) {
    return;
  }
  rememberHistory(record.conversation_history, text.slice(key + HISTORY_KEY.length - 1, -1));
}

const SEALED_START = `,"sealed":{"alg":"${SEALED_ALGORITHM}","kid":"`;
const SEALED_FIELDS =
  /^([0-9a-f]{1,64})","iv":"([A-Za-z0-9+/=]{16})","tag":"([A-Za-z0-9+/=]{24})",(?:"charset":"(latin1|utf8)",)?"data":"/;

function noKey(sessionId: string, kid: string): SessionCorruptError {
  return new SessionCorruptError(
    sessionId,
    `encrypted with key ${kid}, but no SESSION_ENCRYPTION_KEY is configured`,
  );
}

/**
 * An encrypted value in the canonical layout this codec writes, opened without parsing the
 * ciphertext as JSON (the head is the text before `"sealed"`, the fields are at known places):
 * the JSON text of its record. Undefined for any other layout or body (then the general path
 * below reads it).
 */
function unsealCanonical(
  sessionId: string,
  raw: string,
  cipher: SessionCipher | undefined,
): string | undefined {
  const at = raw.substring(0, HEAD_BYTES).indexOf(SEALED_START);
  if (at === -1 || !raw.endsWith('"}}')) return undefined;
  const start = at + SEALED_START.length;
  const fields = SEALED_FIELDS.exec(raw.substring(start, start + 160));
  if (!fields) return undefined;
  const [prefix, kid = '', iv = '', tag = '', charset] = fields;
  if (!cipher) throw noKey(sessionId, kid);
  const headFields = raw.slice(0, at);
  // (The cipher refuses data that is not plain base64: a stray quote cannot slip through.)
  const data = raw.slice(start + prefix.length, -3);
  const plaintext = cipher.open(sessionId, `${headFields}}`, {
    alg: SEALED_ALGORITHM,
    kid,
    iv,
    tag,
    charset: charset as SealedCharset | undefined,
    data,
  });
  // Not the body this codec writes (it starts with its first field): the general path reads it.
  if (!plaintext.startsWith('{"')) return undefined;
  // The head and the body as one text, parsed once by the caller: what a clear value holds.
  return `${headFields},${plaintext.slice(1)}`;
}

function unseal(sessionId: string, value: object, cipher: SessionCipher | undefined): unknown {
  const sealed = sealedRecordSchema.safeParse(value);
  if (!sealed.success) {
    throw new SessionCorruptError(sessionId, describeIssues(sealed.error), { cause: sealed.error });
  }
  if (!cipher) throw noKey(sessionId, sealed.data.sealed.kid);
  const { sealed: envelope, ...head } = sealed.data;
  const plaintext = cipher.open(sessionId, headJson(head), envelope as Sealed);
  const body = parseJson(sessionId, plaintext) as object;
  // Validated once, whole, by the caller.
  return { ...head, ...body };
}

/** Where the head ends in a canonical value, clear or encrypted. */
const HEAD_END = /,"(?:problem|sealed)":/;
const CANONICAL_VERSION = /^\{"schema_version":\d+,"version":(\d+),/;
const CANONICAL_CREATED_AT = /"created_at":"([^"]*)"/;

/** What identifies the state of a stored session: its version and its creation time. */
export interface StoredStamp {
  /** 0 for no value, -1 when it cannot be read. */
  version: number;
  /** null for no value or an unreadable one. */
  createdAt: string | null;
}

/**
 * The stamp of a stored value without decoding all of it: from the canonical head, else from
 * the decoded JSON. Redis's compare-and-set script follows the same rules.
 */
export function storedStamp(raw: string | null): StoredStamp {
  if (raw === null) return { version: 0, createdAt: null };
  const head = raw.slice(0, HEAD_BYTES);
  const canonical = CANONICAL_VERSION.exec(head);
  if (canonical) {
    return {
      version: Number(canonical[1]),
      createdAt: CANONICAL_CREATED_AT.exec(head)?.[1] ?? null,
    };
  }
  try {
    const value = JSON.parse(raw) as { version?: unknown; created_at?: unknown } | null;
    const version = value?.version;
    if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0) {
      return {
        version,
        createdAt: typeof value?.created_at === 'string' ? value.created_at : null,
      };
    }
  } catch {
    // unreadable
  }
  return { version: -1, createdAt: null };
}

/**
 * The first bytes of a canonical value, through its write id: they name that very value (every
 * encoding draws a new write id), so a store that still holds them holds it, whatever follows.
 * Undefined for a value written without a write id, or not in canonical form. (A slice: it keeps
 * the value's text alive while it is kept, as long as the record or agent it belongs to.)
 */
export function writeStamp(raw: string): string | undefined {
  if (!raw.startsWith('{"schema_version":')) return undefined;
  const at = raw.indexOf(',"write_id":"');
  if (at === -1 || at > HEAD_BYTES) return undefined;
  const end = raw.indexOf('"', at + 13);
  return end === -1 || end >= HEAD_BYTES ? undefined : raw.slice(0, end + 1);
}

export function storedVersion(raw: string | null): number {
  return storedStamp(raw).version;
}

/**
 * Reads the head fields from the first bytes of a canonical value. Returns undefined when the
 * text is not in canonical form (then decode the whole value); throws SessionCorruptError when
 * it is, but its head is invalid.
 */
export function decodeHead(sessionId: string, prefix: string): SessionHead | undefined {
  const end = prefix.search(HEAD_END);
  if (!prefix.startsWith('{"schema_version":') || end === -1) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(`${prefix.slice(0, end)}}`);
  } catch {
    return undefined;
  }
  checkSchemaVersion(sessionId, value);
  if (isPlainObject(value) && isExactHead(value)) {
    const v = value as SessionHead;
    return {
      schema_version: SCHEMA_VERSION,
      version: v.version,
      state: v.state,
      current_attempt: v.current_attempt,
      max_attempts: v.max_attempts,
      use_rag: v.use_rag,
      use_web_search: v.use_web_search,
      created_at: v.created_at,
      updated_at: v.updated_at,
      reset_at: v.reset_at,
      token_sha256: v.token_sha256,
      topic: v.topic,
    };
  }
  const result = headSchema.safeParse(value);
  if (!result.success) {
    throw new SessionCorruptError(sessionId, describeIssues(result.error), { cause: result.error });
  }
  return result.data;
}
