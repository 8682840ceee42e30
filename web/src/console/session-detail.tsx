/** One session in a modal dialog: its conversation and details, deleting it (after a
 * confirmation) and giving it a new TTL. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { operator } from '../../../src/texts/web.js';
import type { SessionDetail } from './admin-api.js';
import { type AdminClient, type AdminFailure, adminMessage } from './admin-client.js';
import { formatDateTime, formatDuration, ttlLeft } from './format.js';
import { useNow } from './hooks.js';

const texts = operator.detail;
const MAX_TTL_SECONDS = 31536000;

export interface SessionDetailProps {
  client: AdminClient;
  sessionId: string;
  onFailure: (failure: AdminFailure) => void;
  onClose: () => void;
  onDeleted: (id: string) => void;
  onTtlChanged: () => void;
}

export function SessionDetailDialog(props: SessionDetailProps) {
  const { client, sessionId, onFailure, onClose, onDeleted, onTtlChanged } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const [detail, setDetail] = useState<{ value: SessionDetail; readAt: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [ttlInput, setTtlInput] = useState('3600');
  const [working, setWorking] = useState(false);
  const now = useNow(1000);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  useEffect(() => {
    let current = true;
    void client.session(sessionId).then((outcome) => {
      if (!current) return;
      if (outcome.ok) setDetail({ value: outcome.value, readAt: Date.now() });
      else {
        const gone = outcome.failure.kind === 'http' && outcome.failure.status === 404;
        setError(gone ? texts.gone : adminMessage(outcome.failure));
        onFailure(outcome.failure);
      }
    });
    return () => {
      current = false;
    };
  }, [client, sessionId, onFailure]);

  const remove = async () => {
    setWorking(true);
    const outcome = await client.deleteSession(sessionId);
    setWorking(false);
    if (outcome.ok) onDeleted(sessionId);
    else {
      setConfirming(false);
      setError(adminMessage(outcome.failure));
      onFailure(outcome.failure);
    }
  };

  const changeTtl = async () => {
    const seconds = Number(ttlInput);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) {
      setError(texts.ttlInvalid);
      return;
    }
    setWorking(true);
    const outcome = await client.setTtl(sessionId, seconds);
    setWorking(false);
    if (outcome.ok) {
      const ttl = outcome.value.ttl ?? seconds;
      setDetail((old) => (old ? { value: { ...old.value, ttl }, readAt: Date.now() } : old));
      setError(null);
      setStatus(texts.ttlChanged(formatDuration(ttl)));
      onTtlChanged();
    } else {
      setError(adminMessage(outcome.failure));
      onFailure(outcome.failure);
    }
  };

  const session = detail?.value;
  return (
    <dialog ref={dialog} class="detail" aria-labelledby="detail-title" onClose={onClose}>
      <div class="detail-head">
        <h2 id="detail-title">{texts.title(sessionId)}</h2>
        <button type="button" class="button button-quiet" onClick={() => dialog.current?.close()}>
          {texts.close}
        </button>
      </div>
      {error && (
        <p class="panel-error" role="alert">
          {error}
        </p>
      )}
      {status && (
        <p class="panel-status" role="status">
          {status}
        </p>
      )}
      {!session && !error && <p class="muted">{texts.loading}</p>}
      {session && (
        <>
          <dl class="fields fields-compact">
            <div class="field">
              <dt>{operator.sessions.state}</dt>
              <dd>{operator.states[session.state] ?? session.state}</dd>
            </div>
            <div class="field">
              <dt>{texts.attempt}</dt>
              <dd>
                {session.current_attempt} / {session.max_attempts}
              </dd>
            </div>
            <div class="field">
              <dt>{texts.ttl}</dt>
              <dd class="ttl">{formatDuration(ttlLeft(session.ttl, detail.readAt, now))}</dd>
            </div>
            <div class="field">
              <dt>{texts.version}</dt>
              <dd>{session.version ?? operator.none}</dd>
            </div>
            <div class="field">
              <dt>{texts.created}</dt>
              <dd>{formatDateTime(session.created_at)}</dd>
            </div>
            <div class="field">
              <dt>{texts.updated}</dt>
              <dd>{formatDateTime(session.updated_at)}</dd>
            </div>
            <div class="field field-wide">
              <dt>{texts.problem}</dt>
              <dd>{session.problem ?? texts.noProblem}</dd>
            </div>
          </dl>
          <h3>{texts.conversation}</h3>
          {session.conversation_history.length === 0 ? (
            <p class="muted">{texts.emptyConversation}</p>
          ) : (
            <ol class="transcript">
              {session.conversation_history.map((message, index) => (
                <li key={`${index}-${message.at ?? ''}`} class={`transcript-${message.role}`}>
                  <p class="transcript-role">
                    {message.role === 'user' ? texts.person : texts.assistant}
                    {message.at && <span class="muted"> · {formatDateTime(message.at)}</span>}
                  </p>
                  <p class="transcript-text">{message.content}</p>
                </li>
              ))}
            </ol>
          )}
          <div class="detail-actions">
            <form
              class="ttl-form"
              onSubmit={(event) => {
                event.preventDefault();
                void changeTtl();
              }}
            >
              <label>
                <span>{texts.ttlLabel}</span>
                <input
                  type="number"
                  min={1}
                  max={MAX_TTL_SECONDS}
                  step={1}
                  inputMode="numeric"
                  value={ttlInput}
                  onInput={(event) => setTtlInput(event.currentTarget.value)}
                />
              </label>
              <button type="submit" class="button button-primary" disabled={working}>
                {texts.ttlApply}
              </button>
            </form>
            {confirming ? (
              <fieldset class="confirm">
                <legend>{texts.confirmDelete(sessionId)}</legend>
                <button
                  type="button"
                  class="button button-danger"
                  onClick={() => void remove()}
                  disabled={working}
                >
                  {texts.confirm}
                </button>
                <button
                  type="button"
                  class="button button-quiet"
                  onClick={() => setConfirming(false)}
                >
                  {texts.cancel}
                </button>
              </fieldset>
            ) : (
              <button
                type="button"
                class="button button-danger"
                onClick={() => setConfirming(true)}
              >
                {texts.delete}
              </button>
            )}
          </div>
        </>
      )}
    </dialog>
  );
}
