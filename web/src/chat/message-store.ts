/**
 * The chat's state and every way it changes, as a pure reducer: the conversation, the turn in
 * flight (an optimistic user message, then the reply as it streams), errors that give the typed
 * message back, and the session the browser holds. No DOM, so node's test runner checks it.
 */
import type { ErrorView } from '../shared/api-failure.js';
import type { AgentState, ChatHistory, ChatReply, HeldSession } from './chat-api.js';

export interface ChatMessage {
  /** Unique within the page, for rendering. */
  key: number;
  role: 'user' | 'assistant';
  text: string;
  /** Guides the reply was based on (assistant messages answered in this page only). */
  sources: readonly string[];
  /** A reply still being written. */
  streaming?: boolean;
}

/** What is in flight: nothing, a turn (sending, then its reply streaming), or a history read. */
export type Activity = 'idle' | 'sending' | 'streaming' | 'loading';

/** What the retry button does after an error. */
export type RetryAction = 'send' | 'history' | 'reset';

export interface ShownError extends ErrorView {
  retry: RetryAction | null;
}

export interface ChatState {
  session: HeldSession | null;
  messages: readonly ChatMessage[];
  agentState: AgentState;
  /** "Tentativa n de m", while a repair is being tried. */
  attempt: { current: number; max: number } | null;
  activity: Activity;
  /** The text in the input box. */
  draft: string;
  error: ShownError | null;
  /** A note about the conversation itself (it expired, it was reset). */
  notice: string | null;
  /** The last finished reply, for the screen reader's live region (a new key is a new reply,
   * even with the same words). */
  announcement: { key: number; text: string } | null;
  nextKey: number;
}

export type ChatAction =
  | { type: 'draft'; text: string }
  | { type: 'historyRequested' }
  | { type: 'historyLoaded'; history: ChatHistory }
  | { type: 'turnStarted'; text: string }
  | { type: 'delta'; text: string }
  | { type: 'turnSucceeded'; reply: ChatReply; token: string | undefined }
  | { type: 'failed'; error: ErrorView; retry: RetryAction; notice?: string }
  | { type: 'turnRecovered'; history: ChatHistory; sent: string }
  | { type: 'reset'; notice: string }
  | { type: 'errorDismissed' };

export function initialChatState(session: HeldSession | null): ChatState {
  return {
    session,
    messages: [],
    agentState: 'new_problem',
    attempt: null,
    activity: 'idle',
    draft: '',
    error: null,
    notice: null,
    announcement: null,
    nextKey: 1,
  };
}

/** A turn or a read is in flight: the input waits. */
export const isBusy = (state: ChatState): boolean => state.activity !== 'idle';

/** The Sim / Não buttons are offered. */
export const asksForFeedback = (state: ChatState): boolean =>
  state.agentState === 'waiting_feedback' && state.activity === 'idle';

function attemptOf(agentState: AgentState, current: number, max: number): ChatState['attempt'] {
  return agentState === 'waiting_feedback' && current > 0 && max > 0 ? { current, max } : null;
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'draft':
      return { ...state, draft: action.text };

    case 'historyRequested':
      return { ...state, activity: 'loading', error: null };

    case 'historyLoaded': {
      const { history } = action;
      let nextKey = state.nextKey;
      const messages = history.messages.map((message) => ({
        key: nextKey++,
        role: message.role,
        text: message.content,
        sources: [],
      }));
      return {
        ...state,
        messages,
        nextKey,
        activity: 'idle',
        agentState: history.state,
        attempt: attemptOf(history.state, history.current_attempt, history.max_attempts),
        error: null,
      };
    }

    case 'turnStarted':
      return {
        ...state,
        activity: 'sending',
        draft: '',
        error: null,
        notice: null,
        messages: [
          ...state.messages,
          { key: state.nextKey, role: 'user', text: action.text, sources: [] },
        ],
        nextKey: state.nextKey + 1,
      };

    case 'delta': {
      if (state.activity !== 'sending' && state.activity !== 'streaming') return state;
      const last = state.messages.at(-1);
      if (last?.streaming) {
        const grown = { ...last, text: last.text + action.text };
        return {
          ...state,
          activity: 'streaming',
          messages: [...state.messages.slice(0, -1), grown],
        };
      }
      return {
        ...state,
        activity: 'streaming',
        messages: [
          ...state.messages,
          {
            key: state.nextKey,
            role: 'assistant',
            text: action.text,
            sources: [],
            streaming: true,
          },
        ],
        nextKey: state.nextKey + 1,
      };
    }

    case 'turnSucceeded': {
      const { reply, token } = action;
      const settled = state.messages.filter((message) => !message.streaming);
      const session: HeldSession = {
        id: reply.session_id,
        // A token comes once, when the session is created; afterwards the one held stays.
        token: token ?? (state.session?.id === reply.session_id ? state.session.token : null),
      };
      return {
        ...state,
        session,
        activity: 'idle',
        agentState: reply.state,
        attempt: attemptOf(
          reply.state,
          reply.metadata.current_attempt,
          reply.metadata.max_attempts,
        ),
        messages: [
          ...settled,
          {
            key: state.nextKey,
            role: 'assistant',
            text: reply.response,
            sources: reply.metadata.sources,
          },
        ],
        nextKey: state.nextKey + 1,
        announcement: { key: state.nextKey, text: reply.response },
      };
    }

    case 'failed': {
      const { error, retry } = action;
      // The turn was not saved: its user message and any partial reply leave the conversation,
      // and the text goes back to the input box.
      const turn = retry === 'send' ? splitTurn(state.messages) : undefined;
      const messages = turn?.before ?? state.messages;
      const draft = turn?.sent !== undefined && state.draft === '' ? turn.sent : state.draft;
      if (error.sessionLost) {
        return {
          ...state,
          session: null,
          messages: [],
          agentState: 'new_problem',
          attempt: null,
          activity: 'idle',
          draft,
          error: null,
          notice: action.notice ?? error.message,
        };
      }
      return { ...state, messages, draft, activity: 'idle', error: { ...error, retry } };
    }

    case 'turnRecovered': {
      // A reply cut mid-stream may still have been saved (the server finishes the turn): when
      // the history holds this conversation plus the turn just sent, it was, and sending it
      // again would count it twice.
      const { history, sent } = action;
      const added = history.messages.slice(state.messages.length);
      const saved =
        added.length === 2 && added[0]?.role === 'user' && added[0].content === sent.trim();
      if (!saved) return state;
      const recovered = chatReducer(state, { type: 'historyLoaded', history });
      return { ...recovered, draft: state.draft === sent ? '' : state.draft };
    }

    case 'reset':
      return {
        ...initialChatState(state.session),
        draft: state.draft,
        notice: action.notice,
        nextKey: state.nextKey,
      };

    case 'errorDismissed':
      return { ...state, error: null };
  }
}

/** The conversation before the turn in flight, and the text that turn sent. */
function splitTurn(messages: readonly ChatMessage[]): {
  before: readonly ChatMessage[];
  sent: string | undefined;
} {
  const settled = messages.filter((message) => !message.streaming);
  const last = settled.at(-1);
  return last?.role === 'user'
    ? { before: settled.slice(0, -1), sent: last.text }
    : { before: settled, sent: undefined };
}
