/** The shapes the chat's routes answer with (the HTTP contract), as the page reads them. */

export type AgentState = 'new_problem' | 'waiting_feedback' | 'resolved' | 'max_attempts';

export const AGENT_STATES: readonly AgentState[] = [
  'new_problem',
  'waiting_feedback',
  'resolved',
  'max_attempts',
];

export interface ReplyMetadata {
  current_attempt: number;
  max_attempts: number;
  /** Knowledge-base guides the reply was based on (file names without `.md`). */
  sources: string[];
}

/** The body of POST /api/v1/chat/message, and the `done` event of the stream. */
export interface ChatReply {
  response: string;
  session_id: string;
  state: AgentState;
  metadata: ReplyMetadata;
  timestamp: string;
  /** Only when the request created the session. */
  session_token?: string;
}

/** GET /api/v1/chat/history/{session_id}. */
export interface ChatHistory {
  session_id: string;
  state: AgentState;
  current_attempt: number;
  max_attempts: number;
  messages: { role: 'user' | 'assistant'; content: string; at: string }[];
  updated_at: string;
}

/** The session a browser holds: its id and the token the server gave when it created it. */
export interface HeldSession {
  id: string;
  /** Null against a server that gives no tokens. */
  token: string | null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const isState = (value: unknown): value is AgentState => AGENT_STATES.includes(value as AgentState);

/** A reply body checked field by field (a proxy's page or a half-deployed server is not one). */
export function asChatReply(value: unknown): ChatReply | undefined {
  if (!isObject(value) || typeof value.response !== 'string') return undefined;
  if (typeof value.session_id !== 'string' || !isState(value.state)) return undefined;
  const metadata = isObject(value.metadata) ? value.metadata : {};
  const sources = Array.isArray(metadata.sources)
    ? metadata.sources.filter((source): source is string => typeof source === 'string')
    : [];
  return {
    response: value.response,
    session_id: value.session_id,
    state: value.state,
    metadata: {
      current_attempt: Number.isInteger(metadata.current_attempt)
        ? (metadata.current_attempt as number)
        : 0,
      max_attempts: Number.isInteger(metadata.max_attempts) ? (metadata.max_attempts as number) : 0,
      sources,
    },
    timestamp: typeof value.timestamp === 'string' ? value.timestamp : new Date().toISOString(),
    ...(typeof value.session_token === 'string' ? { session_token: value.session_token } : {}),
  };
}

export function asChatHistory(value: unknown): ChatHistory | undefined {
  if (!isObject(value) || typeof value.session_id !== 'string' || !isState(value.state)) {
    return undefined;
  }
  if (!Array.isArray(value.messages)) return undefined;
  const messages: ChatHistory['messages'] = [];
  for (const message of value.messages) {
    if (!isObject(message) || typeof message.content !== 'string') continue;
    if (message.role !== 'user' && message.role !== 'assistant') continue;
    messages.push({
      role: message.role,
      content: message.content,
      at: typeof message.at === 'string' ? message.at : '',
    });
  }
  return {
    session_id: value.session_id,
    state: value.state,
    current_attempt: Number.isInteger(value.current_attempt)
      ? (value.current_attempt as number)
      : 0,
    max_attempts: Number.isInteger(value.max_attempts) ? (value.max_attempts as number) : 0,
    messages,
    updated_at: typeof value.updated_at === 'string' ? value.updated_at : '',
  };
}
