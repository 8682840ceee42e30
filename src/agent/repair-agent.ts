/**
 * RepairAgent: the conversation state machine the sessions hold.
 *
 * new_problem --(description)--> waiting_feedback (attempt 1)
 * waiting_feedback --sim--> resolved
 * waiting_feedback --não--> waiting_feedback (attempt + 1) or max_attempts at the limit
 * waiting_feedback --ambiguous--> waiting_feedback (no attempt consumed)
 * waiting_feedback --não, and the responder asks for details--> waiting_feedback (no attempt
 *   consumed: its guidance, without an attempt number or the sim/não question)
 * resolved | max_attempts --(description)--> a new problem
 */

import { isoTime } from '../iso-time.js';
import { turnReplies } from '../texts/agent.js';
import { classifyFeedback } from './feedback.js';
import { UpstreamError } from './llm/errors.js';
import { ReplyWriter } from './reply-writer.js';
import {
  type AgentSnapshot,
  type AgentState,
  type ChatMessage,
  MAX_PROBLEM_LENGTH,
  type Responder,
  type SolutionReply,
  type TurnResult,
} from './types.js';

export interface RepairAgentOptions {
  responder: Responder;
  /** @default 3 */
  maxAttempts?: number;
  /** @default true */
  useRag?: boolean;
  /** @default true */
  useWebSearch?: boolean;
  /** Current time, for message timestamps. @default () => new Date() */
  now?: () => Date;
}

export interface RespondOptions {
  /**
   * Receives the turn's reply in pieces, in order, as it is written (the solution as the
   * responder writes it; the attempt line, the feedback question and the fixed replies as pieces
   * too): their concatenation is the `reply` the call resolves with. A failure after the first
   * piece is thrown as it is, an UpstreamError saying how much was passed on (`sentChars`); no
   * fallback answers then, and the turn must not be run again.
   */
  onDelta?: (text: string) => void;
  /** Aborting it cancels the turn, which rejects with the signal's reason; the agent is left as
   * it was. */
  signal?: AbortSignal;
}

interface Turn {
  state: AgentState;
  currentAttempt: number;
  problem: string | null;
  reply: string;
  /** What the responder answered, when this turn asked it. */
  solution?: SolutionReply;
}

export class RepairAgent {
  useRag: boolean;
  useWebSearch: boolean;
  readonly #responder: Responder;
  readonly #now: () => Date;
  #maxAttempts: number;
  #state: AgentState = 'new_problem';
  #currentAttempt = 0;
  #problem: string | null = null;
  #history: ChatMessage[] = [];

  constructor(options: RepairAgentOptions) {
    this.#responder = options.responder;
    this.#now = options.now ?? (() => new Date());
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.useRag = options.useRag ?? true;
    this.useWebSearch = options.useWebSearch ?? true;
  }

  /** Rebuilds an agent from a snapshot (as loaded from a store). */
  static restore(
    snapshot: AgentSnapshot,
    options: Pick<RepairAgentOptions, 'responder' | 'now'>,
  ): RepairAgent {
    const agent = new RepairAgent({
      responder: options.responder,
      now: options.now,
      maxAttempts: snapshot.maxAttempts,
      useRag: snapshot.useRag,
      useWebSearch: snapshot.useWebSearch,
    });
    agent.#state = snapshot.state;
    agent.#currentAttempt = snapshot.currentAttempt;
    agent.#problem = snapshot.problem;
    agent.#history = snapshot.history.slice();
    return agent;
  }

  get state(): AgentState {
    return this.#state;
  }

  get currentAttempt(): number {
    return this.#currentAttempt;
  }

  get maxAttempts(): number {
    return this.#maxAttempts;
  }

  get conversationHistory(): readonly ChatMessage[] {
    return this.#history;
  }

  /** A copy of everything needed to continue later. */
  snapshot(): AgentSnapshot {
    return {
      state: this.#state,
      currentAttempt: this.#currentAttempt,
      maxAttempts: this.#maxAttempts,
      useRag: this.useRag,
      useWebSearch: this.useWebSearch,
      problem: this.#problem,
      history: [...this.#history],
    };
  }

  /** Answers one user message. If the responder fails, the agent is left exactly as it was. */
  async chat(message: string): Promise<string> {
    return (await this.respond(message)).reply;
  }

  /** Answers one user message, with what the reply was based on; with `onDelta`, passes the
   * reply on as it is written. The agent changes only once the reply is complete: if anything
   * fails, it is left exactly as it was (no message of this turn kept, no attempt consumed). */
  async respond(message: string, options: RespondOptions = {}): Promise<TurnResult> {
    const text = message.trim();
    const writer = new ReplyWriter(options.onDelta);
    let turn: Turn;
    try {
      turn = await this.#plan(text, writer, options.signal);
      writer.finish(turn.reply);
    } catch (error) {
      // The count of what reached this turn's listener (the responder's own count may include
      // a beginning still held here).
      if (error instanceof UpstreamError && error.sentChars !== writer.sentChars) {
        throw error.withSentChars(writer.sentChars);
      }
      throw error;
    }
    const at = isoTime(this.#now());
    this.#state = turn.state;
    this.#currentAttempt = turn.currentAttempt;
    this.#problem = turn.problem;
    this.#history.push(
      { role: 'user', content: text, at },
      { role: 'assistant', content: turn.reply, at },
    );
    return this.#result(turn);
  }

  /** Starts over with a new problem; the conversation history is cleared. */
  reset(): void {
    this.#state = 'new_problem';
    this.#currentAttempt = 0;
    this.#problem = null;
    this.#history = [];
  }

  async #plan(text: string, writer: ReplyWriter, signal?: AbortSignal): Promise<Turn> {
    if (this.#state === 'waiting_feedback') return this.#planFeedback(text, writer, signal);
    if (text === '') return { ...this.#unchanged(), reply: turnReplies.emptyMessage };

    // A new description; after "more details, please" it completes the earlier one.
    const pending = this.#state === 'new_problem' ? this.#problem : null;
    const problem = (pending ? `${pending}\n${text}` : text).slice(-MAX_PROBLEM_LENGTH);
    const solution = await this.#solve(problem, 1, text, writer, signal);
    const reply = writer.reply(solution);
    if (solution.needsDetails) {
      return { state: 'new_problem', currentAttempt: 0, problem, reply, solution };
    }
    return { state: 'waiting_feedback', currentAttempt: 1, problem, reply, solution };
  }

  async #planFeedback(text: string, writer: ReplyWriter, signal?: AbortSignal): Promise<Turn> {
    const feedback = classifyFeedback(text);
    if (feedback === 'ambiguous') return { ...this.#unchanged(), reply: turnReplies.ambiguous };
    if (feedback === 'resolved') {
      return { ...this.#unchanged(), state: 'resolved', reply: turnReplies.resolved };
    }
    if (this.#currentAttempt >= this.#maxAttempts) {
      return {
        ...this.#unchanged(),
        state: 'max_attempts',
        reply: turnReplies.maxAttempts(this.#maxAttempts),
      };
    }
    const attempt = this.#currentAttempt + 1;
    const solution = await this.#solve(this.#problem ?? '', attempt, text, writer, signal);
    const reply = writer.reply(solution);
    if (solution.needsDetails) {
      // No new approach was given (e.g. the fallback did not recognise the problem): the
      // attempt is not consumed, and the guidance is given as it is.
      return { ...this.#unchanged(), reply, solution };
    }
    return { ...this.#unchanged(), currentAttempt: attempt, reply, solution };
  }

  #unchanged(): Omit<Turn, 'reply'> {
    return { state: this.#state, currentAttempt: this.#currentAttempt, problem: this.#problem };
  }

  #result({ reply, solution }: Turn): TurnResult {
    const sources = solution?.sources ?? [];
    const searchedOrNot =
      sources.length > 0 || solution === undefined ? 'not_needed' : 'unavailable';
    return {
      reply,
      responder: this.#responder.name,
      sources,
      webSources: solution?.webSources ?? [],
      webSearch: solution?.webSearch ?? (this.useWebSearch ? searchedOrNot : 'disabled'),
      fallbackUsed: solution?.fallbackUsed ?? false,
      solved: solution !== undefined,
      relevanceScore: solution?.relevanceScore ?? null,
    };
  }

  #solve(
    problem: string,
    attempt: number,
    message: string,
    writer: ReplyWriter,
    signal: AbortSignal | undefined,
  ): Promise<SolutionReply> {
    const onDelta = writer.solution({ attempt, maxAttempts: this.#maxAttempts });
    return this.#responder.solve(
      {
        problem,
        message,
        attempt,
        maxAttempts: this.#maxAttempts,
        history: this.#history,
        useRag: this.useRag,
        useWebSearch: this.useWebSearch,
      },
      { onDelta, signal },
    );
  }
}
