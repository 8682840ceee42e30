/** The operator's console: the sign-in until a key is known, then the store, the sessions and
 * the outcomes. Any 401 forgets the key and asks again. */
import { useCallback, useMemo, useState } from 'preact/hooks';
import { operator } from '../../../src/texts/web.js';
import type { KeyValueStorage } from '../chat/held-session.js';
import { AdminClient, type AdminFailure, isUnauthorized } from './admin-client.js';
import { readKey, writeKey } from './admin-key.js';
import { OutcomesPanel } from './outcomes-panel.js';
import { SessionsPanel } from './sessions-panel.js';
import { SignIn } from './sign-in.js';
import { StorePanel } from './store-panel.js';

export interface ConsoleAppProps {
  /** sessionStorage: the key lives as long as the tab. */
  storage: KeyValueStorage | undefined;
  /** A key from the page's link, when there was one. */
  initialKey?: string;
}

export function ConsoleApp({ storage, initialKey }: ConsoleAppProps) {
  const [key, setKey] = useState(() => initialKey ?? readKey(storage));
  const [message, setMessage] = useState<string | undefined>();
  const client = useMemo(() => (key === undefined ? undefined : new AdminClient(key)), [key]);

  const signOut = useCallback(
    (why?: string) => {
      writeKey(storage, undefined);
      setKey(undefined);
      setMessage(why);
    },
    [storage],
  );
  const onFailure = useCallback(
    (failure: AdminFailure) => {
      if (isUnauthorized(failure)) signOut(operator.keyRefused);
    },
    [signOut],
  );

  if (client === undefined) {
    return (
      <SignIn
        message={message}
        onKey={(value) => {
          writeKey(storage, value);
          setMessage(undefined);
          setKey(value);
        }}
      />
    );
  }
  return (
    <div class="console">
      <a class="skip-link" href="#content">
        {operator.skipToContent}
      </a>
      <header class="console-header">
        <h1>
          {operator.appName}: {operator.title}
        </h1>
        <nav aria-label={operator.sectionsLabel}>
          <ul>
            <li>
              <a href="#armazenamento">{operator.storeTab}</a>
            </li>
            <li>
              <a href="#sessoes">{operator.sessionsTab}</a>
            </li>
            <li>
              <a href="#resultados">{operator.outcomesTab}</a>
            </li>
          </ul>
        </nav>
        <button type="button" class="button button-quiet" onClick={() => signOut()}>
          {operator.signOut}
        </button>
      </header>
      <main id="content" class="console-main">
        <StorePanel client={client} onFailure={onFailure} />
        <SessionsPanel client={client} onFailure={onFailure} />
        <OutcomesPanel client={client} onFailure={onFailure} />
      </main>
    </div>
  );
}
