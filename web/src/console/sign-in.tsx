/** The console's door: the admin key, kept for this tab only. */
import { useState } from 'preact/hooks';
import { operator } from '../../../src/texts/web.js';

export interface SignInProps {
  /** Why the key is asked for again (refused, missing). */
  message: string | undefined;
  onKey: (key: string) => void;
}

export function SignIn({ message, onKey }: SignInProps) {
  const [key, setKey] = useState('');
  const [missing, setMissing] = useState(false);
  const shown = missing ? operator.keyMissing : message;
  return (
    <main class="sign-in" id="content">
      <h1>
        {operator.appName}: {operator.title}
      </h1>
      <form
        class="sign-in-form"
        onSubmit={(event) => {
          event.preventDefault();
          const value = key.trim();
          if (value === '') {
            setMissing(true);
            return;
          }
          onKey(value);
        }}
        aria-labelledby="sign-in-title"
      >
        <h2 id="sign-in-title">{operator.signInTitle}</h2>
        <p>{operator.signInText}</p>
        {shown && (
          <p class="panel-error" role="alert">
            {shown}
          </p>
        )}
        <label>
          <span>{operator.keyLabel}</span>
          <input
            type="password"
            name="admin-key"
            autocomplete="current-password"
            value={key}
            onInput={(event) => {
              setKey(event.currentTarget.value);
              setMissing(false);
            }}
          />
        </label>
        <button type="submit" class="button button-primary">
          {operator.signIn}
        </button>
      </form>
    </main>
  );
}
