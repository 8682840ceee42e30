/**
 * Encryption at rest: AES-256-GCM (node:crypto) of a session's conversation, with the id of the
 * key beside the ciphertext so that old keys can still read during a rotation. The session id
 * and the clear head (state, attempts, version, times) are bound to the ciphertext as
 * additional data: a value moved to another session, or a head edited by hand, fails to open.
 *
 * Text made only of Latin-1 characters (Portuguese is) is encrypted one byte per character,
 * which Node turns back into text several times faster than UTF-8; other text is encrypted as
 * UTF-8. The envelope says which, and that choice is authenticated too.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import type { EncryptionKey } from '../config.js';
import { SessionCorruptError } from './errors.js';

export const SEALED_ALGORITHM = 'A256GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** How the plaintext was turned into bytes. */
export type SealedCharset = 'latin1' | 'utf8';
/** A character outside Latin-1: such text is encrypted as UTF-8. */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;
/** How base64 text may end: data, or its padding. */
const BASE64_END = /^(?:[A-Za-z0-9+/]{2}|[A-Za-z0-9+/]=|==)?$/;

/** The encrypted part of a stored session. */
export interface Sealed {
  readonly alg: typeof SEALED_ALGORITHM;
  /** Id of the key that encrypted it. */
  readonly kid: string;
  /** base64 of the 12-byte nonce. */
  readonly iv: string;
  /** base64 of the 16-byte authentication tag. */
  readonly tag: string;
  /** Absent in values written before it existed, which are UTF-8. */
  readonly charset?: SealedCharset | undefined;
  /** base64 of the ciphertext. */
  readonly data: string;
}

/** Random nonces drawn from a pool refilled 4 KB at a time (one system call per 341 values). */
const noncePool = Buffer.alloc(IV_BYTES * 341);
let nonceOffset = noncePool.length;

function nonce(): Buffer {
  if (nonceOffset === noncePool.length) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  nonceOffset += IV_BYTES;
  return Buffer.from(noncePool.subarray(nonceOffset - IV_BYTES, nonceOffset));
}

/** `sealed` as JSON. Written by hand: every field is base64 or hex, nothing to escape, and
 * JSON.stringify scans a long string for characters to escape. */
export function sealedJson(sealed: Sealed): string {
  const charset = sealed.charset ? `"charset":"${sealed.charset}",` : '';
  return `{"alg":"${sealed.alg}","kid":"${sealed.kid}","iv":"${sealed.iv}","tag":"${sealed.tag}",${charset}"data":"${sealed.data}"}`;
}

export class SessionCipher {
  readonly #writer: EncryptionKey;
  readonly #keys: ReadonlyMap<string, Buffer>;

  /** `keys[0]` encrypts; every key decrypts what it wrote. */
  constructor(keys: readonly EncryptionKey[]) {
    const [writer] = keys;
    if (!writer) throw new TypeError('SessionCipher needs at least one key');
    for (const { id, key } of keys) {
      // Ids are written into stored values as they are: hex only.
      if (!/^[0-9a-f]{1,64}$/.test(id))
        throw new TypeError(`key id ${JSON.stringify(id)} is not hex`);
      if (key.length !== 32) throw new TypeError(`encryption key ${id} is not 32 bytes`);
    }
    this.#writer = writer;
    this.#keys = new Map(keys.map(({ id, key }) => [id, key]));
  }

  /** Id of the key new values are written with. */
  get keyId(): string {
    return this.#writer.id;
  }

  /** Encrypts `plaintext` (as Latin-1 when every character fits, else as UTF-8) for `sessionId`
   * and its clear `head`. */
  seal(sessionId: string, head: string, plaintext: string): Sealed {
    const iv = nonce();
    const charset: SealedCharset = BEYOND_LATIN1.test(plaintext) ? 'utf8' : 'latin1';
    const cipher = createCipheriv('aes-256-gcm', this.#writer.key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(additionalData(sessionId, head, charset));
    // GCM gives out as many bytes as it takes in, all from update(): final() adds none.
    const data = cipher.update(plaintext, charset).toString('base64');
    cipher.final();
    return {
      alg: SEALED_ALGORITHM,
      kid: this.#writer.id,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      charset,
      data,
    };
  }

  /** The plaintext; SessionCorruptError when the key is unknown or anything was altered. */
  open(sessionId: string, head: string, sealed: Sealed): string {
    const key = this.#keys.get(sealed.kid);
    if (!key) {
      throw new SessionCorruptError(
        sessionId,
        `encrypted with key ${sealed.kid}, which is not among the configured keys (${[...this.#keys.keys()].join(', ')})`,
      );
    }
    const iv = Buffer.from(sealed.iv, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SessionCorruptError(sessionId, 'encrypted value with a malformed nonce or tag');
    }
    const data = Buffer.from(sealed.data, 'base64');
    // Base64 decoding skips characters it does not know. A text longer than its bytes need held
    // some (a quote, say); one in place of the padding leaves the bytes as they were, so the end
    // is checked too. Any other change alters the bytes and fails the tag.
    if (
      sealed.data.length !== 4 * Math.ceil(data.length / 3) ||
      !BASE64_END.test(sealed.data.slice(-2))
    ) {
      throw new SessionCorruptError(sessionId, 'encrypted value that is not plain base64');
    }
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(sessionId, head, sealed.charset));
      decipher.setAuthTag(tag);
      // final() adds no bytes, only checks the tag: nothing is returned unless the whole value
      // is authentic.
      plaintext = decipher.update(data);
      decipher.final();
    } catch (error) {
      throw new SessionCorruptError(
        sessionId,
        `encrypted value fails authentication with key ${sealed.kid} (altered, or moved from another session)`,
        { cause: error },
      );
    }
    return plaintext.toString(sealed.charset ?? 'utf8');
  }
}

function additionalData(sessionId: string, head: string, charset?: SealedCharset): Buffer {
  return Buffer.from(`${sessionId}\n${head}${charset ? `\n${charset}` : ''}`, 'utf8');
}

const ciphers = new WeakMap<readonly EncryptionKey[], SessionCipher>();

/** The cipher for the configured keys, or undefined when encryption is off; one per key list
 * (the store and the manager of one configuration share it). */
export function cipherFor(keys: readonly EncryptionKey[]): SessionCipher | undefined {
  if (keys.length === 0) return undefined;
  let cipher = ciphers.get(keys);
  if (!cipher) {
    cipher = new SessionCipher(keys);
    ciphers.set(keys, cipher);
  }
  return cipher;
}
