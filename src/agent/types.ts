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

export interface SolutionRequest {
  readonly problem: string;
  /** 1-based attempt the solution is for. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly history: readonly ChatMessage[];
  readonly useRag: boolean;
  readonly useWebSearch: boolean;
}

export interface SolutionReply {
  readonly text: string;
  /** True when the problem was not recognised and the reply asks for details instead. */
  readonly needsDetails: boolean;
  /** Documents the reply was based on. */
  readonly sources: readonly string[];
}

/** Writes the solution for one attempt. Canned replies (resolved, ambiguous, exhausted) stay in
 * the agent and never reach a responder. */
export interface Responder {
  readonly name: string;
  solve(request: SolutionRequest): Promise<SolutionReply>;
}
