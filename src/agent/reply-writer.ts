/**
 * A turn's reply, passed on as it is written: the pieces of the responder's solution framed as
 * the agent frames a whole one (the attempt line before a later attempt, the feedback question
 * after), and the fixed replies whole, so that the pieces always add up to the turn's reply.
 */
import { attemptPrefix, feedbackSuffix, namesAttempt } from './replies.js';
import type { DeltaListener, SolutionReply } from './types.js';

/**
 * Characters of a later attempt's solution held before it is passed on, to see whether it names
 * the attempt itself (a model is told to say it first): the line is added unless the solution's
 * beginning (these characters, or its first paragraph) names it. A whole reply is judged on all
 * its text instead, so a solution that names its attempt only further on gets the line when
 * streamed and not when whole.
 */
export const HEAD_CHARS = 200;

/**
 * Whether the beginning of a solution is enough to choose its frame: always for attempt 1;
 * for a later attempt, once it names the attempt, reaches HEAD_CHARS or holds a paragraph break.
 * A streaming responder holds a later attempt's first piece until then (while it holds, it can
 * still fall back), so that the agent frames and passes on whatever it receives at once.
 */
export function frameDecided(head: string, framing: Framing): boolean {
  return (
    framing.attempt <= 1 ||
    head.length >= HEAD_CHARS ||
    head.includes('\n\n') ||
    namesAttempt(head, framing.attempt, framing.maxAttempts)
  );
}

/** The responder's pieces did not add up to the text of its reply. */
export class ReplyMismatchError extends Error {
  readonly code = 'ERR_REPLY_MISMATCH';
  override name = 'ReplyMismatchError';
}

/** Where the solution stands: attempt 1 of a problem, or a later one after a 'não'. */
export interface Framing {
  readonly attempt: number;
  readonly maxAttempts: number;
}

export class ReplyWriter {
  readonly #listener: ((text: string) => void) | undefined;
  #sent = '';
  /** The responder's pieces, as received. */
  #received = '';
  #framing: Framing | undefined;
  /** The attempt line chosen ('' for none); undefined until chosen. */
  #prefix: string | undefined;
  #begun = false;
  /** Blanks at the end of the solution so far: passed on only when text follows them. */
  #blanks = '';
  /** The beginning of a later attempt's solution, while the attempt line is not chosen. */
  #head = '';

  /** Without a listener, nothing is passed on and the reply is only composed. */
  constructor(listener?: (text: string) => void) {
    this.#listener = listener;
  }

  /** Characters passed on so far. */
  get sentChars(): number {
    return this.#sent.length;
  }

  /** A listener for the responder's pieces of the solution for this attempt; undefined when
   * the turn is not streamed. */
  solution(framing: Framing): DeltaListener | undefined {
    this.#framing = framing;
    if (this.#listener === undefined) return undefined;
    return (text, info) => {
      this.#received += text;
      // A request for details is given as it is: no frame, no trimming.
      if (info.needsDetails) {
        this.#send(text);
        return;
      }
      let piece = text;
      if (!this.#begun) {
        piece = piece.trimStart();
        if (piece === '') return;
        this.#begun = true;
      }
      piece = this.#blanks + piece;
      const body = piece.trimEnd();
      this.#blanks = piece.slice(body.length);
      if (body !== '') this.#sendSolution(body);
    };
  }

  /** The turn's reply for this solution, with the frame chosen while it was passed on (or, for
   * a solution received whole, chosen on its whole text). */
  reply(solution: SolutionReply): string {
    if (this.#received !== '' && this.#received !== solution.text) {
      throw new ReplyMismatchError(
        `the responder streamed ${this.#received.length} characters that are not its reply's ${solution.text.length}`,
      );
    }
    if (solution.needsDetails) return solution.text;
    const text = solution.text.trim();
    const framing = this.#framing;
    const later = framing !== undefined && framing.attempt > 1;
    const prefix =
      this.#prefix ??
      (later && !namesAttempt(text, framing.attempt, framing.maxAttempts)
        ? attemptPrefix(framing.attempt, framing.maxAttempts)
        : '');
    return prefix + text + feedbackSuffix(text);
  }

  /** Passes on what remains of the turn's reply (all of it for a fixed reply, or a solution
   * received whole). */
  finish(reply: string): void {
    if (!reply.startsWith(this.#sent)) {
      throw new ReplyMismatchError('the reply does not begin with what was passed on');
    }
    this.#send(reply.slice(this.#sent.length));
  }

  #sendSolution(body: string): void {
    const framing = this.#framing;
    if (this.#prefix !== undefined || framing === undefined || framing.attempt <= 1) {
      this.#prefix ??= '';
      this.#send(body);
      return;
    }
    this.#head += body;
    if (!frameDecided(this.#head, framing)) return;
    const named = namesAttempt(this.#head, framing.attempt, framing.maxAttempts);
    this.#prefix = named ? '' : attemptPrefix(framing.attempt, framing.maxAttempts);
    this.#send(this.#prefix + this.#head);
    this.#head = '';
  }

  #send(text: string): void {
    if (text === '' || this.#listener === undefined) return;
    this.#sent += text;
    this.#listener(text);
  }
}
