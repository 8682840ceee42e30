/** The chat page: reads the held conversation back, sends turns, answers Sim / Não, resets. */
import { useEffect, useReducer, useRef } from 'preact/hooks';
import { chat } from '../../../src/texts/web.js';
import { describeFailure } from '../shared/api-failure.js';
import type { ChatClient } from './chat-client.js';
import { Composer } from './composer.js';
import { Conversation } from './conversation.js';
import { type KeyValueStorage, readHeldSession, writeHeldSession } from './held-session.js';
import { asksForFeedback, chatReducer, initialChatState, isBusy } from './message-store.js';
import { StatusBar } from './status-bar.js';
import { Welcome } from './welcome.js';

export interface ChatAppProps {
  client: ChatClient;
  storage: KeyValueStorage | undefined;
}

export function ChatApp({ client, storage }: ChatAppProps) {
  const [state, dispatch] = useReducer(chatReducer, undefined, () =>
    initialChatState(readHeldSession(storage)),
  );
  // Callbacks read the state of now, not of the render that made them.
  const current = useRef(state);
  current.current = state;
  // Set at once, before the next render disables the buttons: a double press sends one turn.
  const inFlight = useRef(false);
  const exclusive =
    <A extends unknown[]>(run: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      if (inFlight.current || isBusy(current.current)) return;
      inFlight.current = true;
      try {
        await run(...args);
      } finally {
        inFlight.current = false;
      }
    };

  const { session } = state;
  useEffect(() => writeHeldSession(storage, session), [storage, session]);

  const loadHistory = exclusive(async () => {
    const held = current.current.session;
    if (held === null) return;
    dispatch({ type: 'historyRequested' });
    const outcome = await client.history(held.id, held.token);
    if (outcome.ok) dispatch({ type: 'historyLoaded', history: outcome.value });
    else dispatch({ type: 'failed', error: describeFailure(outcome.failure), retry: 'history' });
  });

  useEffect(() => {
    void loadHistory();
  }, []);

  const send = exclusive(async (text: string) => {
    const message = text.trim();
    if (message === '') return;
    const held = current.current.session;
    dispatch({ type: 'turnStarted', text: message });
    const outcome = await client.send(
      { message, sessionId: held?.id, token: held?.token ?? null },
      (delta) => dispatch({ type: 'delta', text: delta }),
    );
    if (outcome.ok) {
      dispatch({ type: 'turnSucceeded', reply: outcome.value.reply, token: outcome.value.token });
      return;
    }
    dispatch({ type: 'failed', error: describeFailure(outcome.failure), retry: 'send' });
    // Cut mid-stream: the server may have finished and saved the turn; the history tells.
    if (outcome.failure.kind === 'network' && outcome.failure.midStream && held) {
      const history = await client.history(held.id, held.token);
      if (history.ok) dispatch({ type: 'turnRecovered', history: history.value, sent: message });
    }
  });

  const reset = exclusive(async () => {
    const held = current.current.session;
    if (held === null) {
      dispatch({ type: 'reset', notice: chat.resetDone });
      return;
    }
    const outcome = await client.reset(held.id, held.token);
    if (outcome.ok) {
      dispatch({ type: 'reset', notice: chat.resetDone });
      // The button just pressed is now disabled: the focus goes to the box, to describe the new
      // problem (not on a touch screen, where the keyboard would pop up).
      if (!window.matchMedia('(pointer: coarse)').matches) {
        document.getElementById('message')?.focus();
      }
    } else {
      // A session the server no longer knows is as good as reset.
      const error = describeFailure(outcome.failure);
      dispatch({ type: 'failed', error, retry: 'reset', notice: chat.resetDone });
    }
  });

  const retry = () => {
    const action = current.current.error?.retry;
    if (action === 'send') void send(current.current.draft);
    else if (action === 'history') void loadHistory();
    else if (action === 'reset') void reset();
  };

  const busy = isBusy(state);
  const started = state.messages.length > 0 || state.activity !== 'idle';
  return (
    <div class="chat">
      <header class="chat-header">
        <div class="brand">
          <h1>{chat.appName}</h1>
          <p class="tagline">{chat.tagline}</p>
        </div>
        <button
          type="button"
          class="button button-quiet new-problem"
          onClick={() => void reset()}
          disabled={busy || !started}
          aria-label={chat.newProblemLabel}
        >
          {chat.newProblem}
        </button>
      </header>
      <StatusBar agentState={state.agentState} attempt={state.attempt} />
      {/* The conversation scrolls inside this box: keyboard users scroll it once it has the
          focus (WCAG 2.1.1), even when it holds no button to tab to. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll container must take the focus */}
      <main class="chat-main" tabIndex={0}>
        {state.notice && (
          <p class="notice" role="status">
            {state.notice}
          </p>
        )}
        {!started && <Welcome onExample={(text) => dispatch({ type: 'draft', text })} />}
        <Conversation
          messages={state.messages}
          activity={state.activity}
          askFeedback={asksForFeedback(state)}
          onAnswer={(text) => void send(text)}
        />
      </main>
      <footer class="chat-footer">
        <Composer
          draft={state.draft}
          busy={busy}
          error={state.error}
          onDraft={(text) => dispatch({ type: 'draft', text })}
          onSend={(text) => void send(text)}
          onRetry={retry}
          onDismiss={() => dispatch({ type: 'errorDismissed' })}
        />
      </footer>
      <div class="visually-hidden" aria-live="polite">
        {state.announcement && (
          <p key={state.announcement.key}>{chat.newReplyAnnouncement(state.announcement.text)}</p>
        )}
      </div>
    </div>
  );
}
