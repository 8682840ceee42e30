/** The input box and its send button, with the last error (and the way to try again) above it. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { chat, errors } from '../../../src/texts/web.js';
import type { ShownError } from './message-store.js';

/** The server's limit; longer messages are still sent, and its answer (422) is shown. */
const MAX_MESSAGE_LENGTH = 4096;
/** The counter appears from this share of the limit on. */
const COUNTER_FROM = 0.85;

/** Seconds left of a Retry-After, counting down each second. */
function useCountdown(seconds: number | undefined, key: unknown): number {
  const [left, setLeft] = useState(seconds ?? 0);
  useEffect(() => {
    if (seconds === undefined || seconds <= 0) {
      setLeft(0);
      return;
    }
    const endsAt = Date.now() + seconds * 1000;
    setLeft(seconds);
    const timer = setInterval(() => {
      const remaining = Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
      setLeft(remaining);
      if (remaining === 0) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [seconds, key]);
  return left;
}

interface ErrorBoxProps {
  error: ShownError;
  onRetry: () => void;
  onDismiss: () => void;
}

function ErrorBox({ error, onRetry, onDismiss }: ErrorBoxProps) {
  const left = useCountdown(error.retryAfterSeconds, error);
  return (
    <div class="error" role="alert">
      <p class="error-message">{error.message}</p>
      <div class="error-actions">
        {error.retryable && error.retry !== null && (
          <button type="button" class="button button-primary" onClick={onRetry} disabled={left > 0}>
            {left > 0 ? errors.retryIn(left) : chat.retry}
          </button>
        )}
        <button type="button" class="button button-quiet" onClick={onDismiss}>
          {chat.dismiss}
        </button>
      </div>
    </div>
  );
}

export interface ComposerProps {
  draft: string;
  busy: boolean;
  error: ShownError | null;
  onDraft: (text: string) => void;
  onSend: (text: string) => void;
  onRetry: () => void;
  onDismiss: () => void;
}

export function Composer(props: ComposerProps) {
  const { draft, busy, error, onDraft, onSend, onRetry, onDismiss } = props;
  const input = useRef<HTMLTextAreaElement>(null);
  const wasBusy = useRef(busy);

  // After a turn, focus that the disabled box or the vanished Sim / Não buttons lost comes back
  // to the box, for keyboard users; on a touch screen the keyboard would then cover the reply.
  useEffect(() => {
    const finished = wasBusy.current && !busy;
    wasBusy.current = busy;
    if (!finished || window.matchMedia('(pointer: coarse)').matches) return;
    const focused = document.activeElement;
    if (focused === null || focused === document.body) input.current?.focus();
  }, [busy]);

  const submit = () => {
    if (busy || draft.trim() === '') return;
    onSend(draft);
  };
  const showCounter = draft.length >= MAX_MESSAGE_LENGTH * COUNTER_FROM;

  return (
    <div class="composer">
      {error && <ErrorBox error={error} onRetry={onRetry} onDismiss={onDismiss} />}
      <form
        class="composer-form"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <label class="visually-hidden" for="message">
          {chat.inputLabel}
        </label>
        <textarea
          id="message"
          ref={input}
          rows={1}
          value={draft}
          disabled={busy}
          placeholder={chat.inputPlaceholder}
          enterkeyhint="send"
          aria-describedby="message-hint"
          onInput={(event) => onDraft(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              submit();
            }
          }}
        />
        <button
          type="submit"
          class="button button-primary send"
          disabled={busy || draft.trim() === ''}
        >
          {busy ? chat.sending : chat.send}
        </button>
      </form>
      <p id="message-hint" class="hint">
        {chat.inputHint}
      </p>
      {showCounter && (
        <p class={draft.length > MAX_MESSAGE_LENGTH ? 'counter counter-over' : 'counter'}>
          {chat.counter(draft.length, MAX_MESSAGE_LENGTH)}
        </p>
      )}
    </div>
  );
}
