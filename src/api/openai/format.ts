/**
 * OpenAI's answers: a whole `chat.completion`, or the `chat.completion.chunk`s of a streamed one
 * (the role first, then the content in pieces, then `finish_reason: "stop"`). No `usage`: the
 * agent does not count tokens, and a count is never made up.
 */
import { randomUUID } from 'node:crypto';
import type { TurnOutcome } from '../../sessions/manager.js';
import type { AgentInfo } from './schemas.js';

/** What every chunk of one completion repeats. */
export interface CompletionFrame {
  /** `chatcmpl-...`, the same in every chunk. */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  /** The model's listed id. */
  readonly model: string;
}

export function newFrame(model: string, now = Date.now()): CompletionFrame {
  return {
    id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(now / 1000),
    model,
  };
}

/** Where the conversation stands after a turn. */
export function agentInfoOf(outcome: TurnOutcome): AgentInfo {
  return {
    session_id: outcome.sessionId,
    state: outcome.state,
    current_attempt: outcome.currentAttempt,
    max_attempts: outcome.maxAttempts,
    sources: [...outcome.result.sources],
  };
}

export function completion(frame: CompletionFrame, content: string, agent?: AgentInfo) {
  return {
    id: frame.id,
    object: 'chat.completion' as const,
    created: frame.created,
    model: frame.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content, refusal: null },
        logprobs: null,
        finish_reason: 'stop' as const,
      },
    ],
    ...(agent && { agent }),
  };
}

type Delta = { role: 'assistant'; content: string } | { content: string } | Record<string, never>;

export function chunk(
  frame: CompletionFrame,
  delta: Delta,
  finishReason: 'stop' | null = null,
  agent?: AgentInfo,
) {
  return {
    id: frame.id,
    object: 'chat.completion.chunk' as const,
    created: frame.created,
    model: frame.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(agent && { agent }),
  };
}
