/**
 * Lines of a byte stream, for files of JSON lines that may come from anywhere. A line longer than
 * the limit is never held whole: its bytes are counted and dropped as they arrive, and it comes
 * out as an UnreadLine in its place, so the lines after it are still read. A UTF-8 byte order mark
 * at the start is skipped; `\r\n` endings are accepted.
 */

/** A line given back without its text: longer than allowed, or not UTF-8. */
export class UnreadLine {
  constructor(
    readonly problem: 'too-long' | 'not-utf8',
    /** Its length in bytes (without the line ending). */
    readonly bytes: number,
    /** The limit it was held to. */
    readonly maxBytes: number,
  ) {}
}

export interface ReadLinesOptions {
  /** Longest line read, in bytes, without its line ending (and without a leading BOM). */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** Every line, numbered by position: the n-th value is line n (empty lines included). */
export async function* readLines(
  source: AsyncIterable<Uint8Array | string>,
  options: ReadLinesOptions,
): AsyncGenerator<string | UnreadLine> {
  const { maxLineBytes } = options;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Uint8Array[] = [];
  /** Bytes of the current line so far, counted even once they are no longer kept. */
  let length = 0;
  let dropping = false;
  let first = true;

  const take = (piece: Uint8Array) => {
    length += piece.length;
    if (dropping) return;
    // Room for a BOM before the first line and a `\r` at the end of any, not counted below.
    if (length > maxLineBytes + 1 + (first ? BYTE_ORDER_MARK.length : 0)) {
      dropping = true;
      parts = [];
    } else if (piece.length > 0) {
      parts.push(piece);
    }
  };

  const finish = (): string | UnreadLine => {
    let line: string | UnreadLine;
    if (dropping) {
      line = new UnreadLine('too-long', length, maxLineBytes);
    } else {
      let bytes: Uint8Array = Buffer.concat(parts, length);
      if (first && Buffer.from(bytes.subarray(0, 3)).equals(BYTE_ORDER_MARK))
        bytes = bytes.subarray(3);
      if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
      if (bytes.length > maxLineBytes) {
        line = new UnreadLine('too-long', bytes.length, maxLineBytes);
      } else {
        try {
          line = decoder.decode(bytes);
        } catch {
          line = new UnreadLine('not-utf8', bytes.length, maxLineBytes);
        }
      }
    }
    parts = [];
    length = 0;
    dropping = false;
    first = false;
    return line;
  };

  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    while (start < bytes.length) {
      const end = bytes.indexOf(NEWLINE, start);
      take(bytes.subarray(start, end === -1 ? bytes.length : end));
      if (end === -1) break;
      yield finish();
      start = end + 1;
    }
  }
  // A last line without a line ending.
  if (length > 0) yield finish();
}

/** How many lines `source` holds (a last one without a line ending included), read in chunks. */
export async function countLines(source: AsyncIterable<Uint8Array | string>): Promise<number> {
  let lines = 0;
  let last: number | undefined;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) lines++;
    if (bytes.length > 0) last = bytes[bytes.length - 1];
  }
  return last === undefined || last === NEWLINE ? lines : lines + 1;
}
