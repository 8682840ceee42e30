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
}

/** Writes the solution for one attempt. Canned replies (resolved, ambiguous, exhausted) stay in
 * the agent and never reach a responder. */
export interface Responder {
  readonly name: string;
  solve(request: SolutionRequest): Promise<SolutionReply>;
}
