/**
 * A model's reply read in pieces, cleaned and bounded as a whole reply is (`replyText`,
 * `boundReply`), passing each piece of clean text on as soon as it is certain to stay: nothing
 * passed on is ever taken back, so the pieces always add up to the final text.
 */
import { boundReply } from './model.js';

const OPEN = '<think>';
const CLOSE = '</think>';

/** Length of the longest end of `text` that could be the start of a tag. */
function partialTag(text: string): number {
  for (let n = Math.min(text.length, CLOSE.length - 1); n > 0; n--) {
    const end = text.slice(-n);
    if (OPEN.startsWith(end) || CLOSE.startsWith(end)) return n;
  }
  return 0;
}

/**
 * Cleans as `replyText`: reasoning blocks (`<think>...</think>`) removed, an unclosed one up to
 * the end, surrounding blanks trimmed. One difference, since a piece passed on stays: a closing
 * tag without its opening one removes what came before it only while none of it was passed on
 * (blanks and reasoning blocks only); after that, only the tag itself is removed.
 *
 * With `maxChars`, bounds as `boundReply`: text beyond half of the limit is held until a
 * paragraph break follows it (the place `boundReply` cuts first), and once the text passes the
 * limit it is cut exactly where `boundReply` cuts the whole reply, and `full` becomes true: the
 * rest of the reply is not needed.
 */
export class ReplyTextStream {
  readonly #emit: (text: string) => void;
  readonly #maxChars: number | undefined;
  /** Raw text not yet looked at in full: an unfinished tag, or the inside of a block. */
  #raw = '';
  #thinking = false;
  /** The clean text passed on, in its pieces, and its length. */
  #sentPieces: string[] = [];
  #sent = 0;
  /** Clean text received but not passed on yet (leading blanks of the reply removed). */
  #pending = '';
  /** Where the blanks that end `#pending` begin (its length when it ends with text). */
  #pendingSolid = 0;
  #full = false;
  /** Characters of clean text received when the limit was passed. */
  #received: number | undefined;

  /** `emit` receives each piece of clean text, never empty. */
  constructor(emit: (text: string) => void, maxChars?: number) {
    this.#emit = emit;
    this.#maxChars = maxChars;
  }

  /** True once the text passed the limit: what was passed on is the whole reply. */
  get full(): boolean {
    return this.#full;
  }

  /** Characters of clean text received (more than the final text when the limit was passed). */
  get received(): number {
    return this.#received ?? this.#sent + this.#pending.length;
  }

  /** One more piece of the raw reply. */
  push(piece: string): void {
    if (this.#full) return;
    this.#raw += piece;
    for (;;) {
      if (this.#thinking) {
        const close = this.#raw.indexOf(CLOSE);
        if (close === -1) {
          this.#raw = this.#raw.slice(-(CLOSE.length - 1));
          return;
        }
        this.#raw = this.#raw.slice(close + CLOSE.length);
        this.#thinking = false;
        continue;
      }
      const open = this.#raw.indexOf(OPEN);
      const close = this.#raw.indexOf(CLOSE);
      if (open === -1 && close === -1) break;
      if (open !== -1 && (close === -1 || open < close)) {
        this.#accept(this.#raw.slice(0, open));
        this.#raw = this.#raw.slice(open + OPEN.length);
        this.#thinking = true;
      } else {
        // A closing tag without its opening one: the template opened the block itself.
        if (this.#sent === 0) {
          this.#pending = '';
          this.#pendingSolid = 0;
        } else {
          this.#accept(this.#raw.slice(0, close));
        }
        this.#raw = this.#raw.slice(close + CLOSE.length);
      }
      if (this.#full) return;
    }
    const keep = partialTag(this.#raw);
    this.#accept(this.#raw.slice(0, this.#raw.length - keep));
    this.#raw = this.#raw.slice(this.#raw.length - keep);
  }

  /** The reply is over: passes on what was held, and returns the whole clean text (empty when
   * the reply had none). */
  end(): string {
    if (!this.#full && !this.#thinking) this.#accept(this.#raw);
    this.#raw = '';
    if (!this.#full) this.#flush(this.#pending.length);
    return this.#sentText();
  }

  #accept(text: string): void {
    if (text === '' || this.#full) return;
    const added = this.#sent === 0 && this.#pending === '' ? text.trimStart() : text;
    const solid = added.trimEnd().length;
    if (solid > 0) this.#pendingSolid = this.#pending.length + solid;
    this.#pending += added;
    const max = this.#maxChars;
    const length = this.#sent + this.#pending.length;
    if (max === undefined || length <= Math.floor(max / 2)) {
      this.#flush(this.#pending.length);
    } else if (length > max) {
      this.#received = length;
      this.#pending = boundReply(this.#sentText() + this.#pending, max).slice(this.#sent);
      this.#pendingSolid = this.#pending.length;
      this.#flush(this.#pending.length);
      this.#full = true;
    } else {
      // Beyond half of the limit, the cut may fall anywhere after the last paragraph break.
      const floor = Math.floor(max / 2) - this.#sent;
      this.#flush(Math.max(floor, this.#pending.lastIndexOf('\n\n')));
    }
  }

  /** Passes on the pending text up to `end`, less the blanks it ends with: they wait for the
   * text that follows them (a reply ends without them). */
  #flush(end: number): void {
    let last = Math.min(end, this.#pendingSolid);
    while (last > 0 && /\s/.test(this.#pending.charAt(last - 1))) last -= 1;
    if (last <= 0) return;
    const piece = this.#pending.slice(0, last);
    this.#pending = this.#pending.slice(last);
    this.#pendingSolid -= last;
    this.#sentPieces.push(piece);
    this.#sent += last;
    this.#emit(piece);
  }

  #sentText(): string {
    const text = this.#sentPieces.join('');
    this.#sentPieces = [text];
    return text;
  }
}
