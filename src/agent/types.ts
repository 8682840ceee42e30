/** The agent's vocabulary: its states, its messages, and the Responder that writes solutions. */

export const AGENT_STATES = [
  'new_problem',
  'waiting_feedback',
  'resolved',
  'max_attempts',
] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
  /** ISO 8601 time the message was added. */
  readonly at: string;
}

/** Everything an agent needs to continue a conversation later. */
export interface AgentSnapshot {
  readonly state: AgentState;
  readonly currentAttempt: number;
  readonly maxAttempts: number;
  readonly useRag: boolean;
  readonly useWebSearch: boolean;
  /** The problem being worked on; null before the first description. */
  readonly problem: string | null;
  readonly history: readonly ChatMessage[];
}

/** A description given in pieces (after "more details, please") is kept up to this length. */
export const MAX_PROBLEM_LENGTH = 2000;

export interface SolutionRequest {
  /** The whole description of the problem (given in one message or in several). */
  readonly problem: string;
  /** What the user said this turn: the description, or the answer to the previous attempt.
   * @default problem */
  readonly message?: string;
  /** 1-based attempt the solution is for. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The conversation before this turn (the message of this turn is not in it yet). */
  readonly history: readonly ChatMessage[];
  readonly useRag: boolean;
  readonly useWebSearch: boolean;
}

/**
 * What web search did for a reply:
 * - `disabled`: the conversation turned it off (`use_web_search: false`);
 * - `not_needed`: the knowledge base had the answer, or the reply needed no search;
 * - `unavailable`: it would have been used, but no search service is configured or it failed;
 * - `no_results`: the search service answered with nothing;
 * - `used`: its results were given to the model.
 */
export type WebSearchStatus = 'disabled' | 'not_needed' | 'unavailable' | 'no_results' | 'used';

export interface SolutionReply {
  readonly text: string;
  /** True when the problem was not recognised and the reply asks for details instead. */
  readonly needsDetails: boolean;
  /** Knowledge-base documents (file names without `.md`) the reply was based on. */
  readonly sources: readonly string[];
  /** Addresses of the web pages whose excerpts were given to the model. @default [] */
  readonly webSources?: readonly string[];
  /** @default "not_needed" when `sources` is not empty, else "unavailable" ("disabled" when the
   * request turned web search off) */
  readonly webSearch?: WebSearchStatus;
  /** True when the configured model failed and the offline responder answered instead.
   * @default false */
  readonly fallbackUsed?: boolean;
  /** How well the best knowledge-base passage the reply was based on matched the description
   * searched: the share, from 0 to 1 (two decimals), of the description's distinct word stems
   * found in that passage (see `relevanceScore` in relevance.ts). null when no passage was used:
   * the knowledge base was not searched (a model with `useRag` false) or found nothing.
   * @default null */
  readonly relevanceScore?: number | null;
}

/** One answered message, with what the reply was based on (for the API's metadata). */
export interface TurnResult {
  readonly reply: string;
  /** Name of the agent's responder ("offline", "ollama", "openai"). */
  readonly responder: string;
  /** Knowledge-base documents used; empty for the fixed replies. */
  readonly sources: readonly string[];
  /** Web pages used. */
  readonly webSources: readonly string[];
  readonly webSearch: WebSearchStatus;
  readonly fallbackUsed: boolean;
  /** True when the responder wrote this turn's reply; false for the fixed replies. */
  readonly solved: boolean;
  /** The solution's `relevanceScore`: how well the knowledge base matched the description, from
   * 0 to 1; null for the fixed replies and for a solution based on no knowledge-base passage. */
  readonly relevanceScore: number | null;
}

/** What a responder says about the reply it is streaming, with each piece. */
export interface DeltaInfo {
  /** The reply asks for details (`SolutionReply.needsDetails`): the agent adds neither the
   * attempt line nor the feedback question to it. */
  readonly needsDetails: boolean;
}

/** Receives one piece of a reply as soon as it is written. */
export type DeltaListener = (text: string, info: DeltaInfo) => void;

export interface SolveOptions {
  /**
   * Receives the reply's text in pieces, in order, as it is written: their concatenation is the
   * `text` the call resolves with. A responder that cannot stream may ignore it (the agent then
   * passes the whole reply on as one piece). Once a piece has been passed on, nothing is taken
   * back: a failure is thrown as it is (an UpstreamError with `sentChars`), never answered by a
   * fallback. An exception thrown by the listener ends the call with that exception. The agent
   * holds a later attempt's beginning until `frameDecided` (reply-writer.ts) lets it choose the
   * attempt line; a responder that can still fall back holds it too (see llm/delta-relay.ts), so
   * that what it has passed on has reached the client.
   */
  readonly onDelta?: DeltaListener;
  /** Aborting it cancels the call (model and web search), which rejects with its reason. */
  readonly signal?: AbortSignal;
}

/** Writes the solution for one attempt. Canned replies (resolved, ambiguous, exhausted) stay in
 * the agent and never reach a responder. */
export interface Responder {
  readonly name: string;
  solve(request: SolutionRequest, options?: SolveOptions): Promise<SolutionReply>;
}
