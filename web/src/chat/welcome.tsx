/** What a first visit shows: what to write, and a few examples that fill the box. */
import { chat } from '../../../src/texts/web.js';

export function Welcome({ onExample }: { onExample: (text: string) => void }) {
  return (
    <section class="welcome" aria-labelledby="welcome-title">
      <h2 id="welcome-title">{chat.welcomeTitle}</h2>
      <p>{chat.welcomeText}</p>
      <p class="examples-label" id="examples-label">
        {chat.examplesLabel}
      </p>
      <ul class="examples" aria-labelledby="examples-label">
        {chat.examples.map((example) => (
          <li key={example}>
            <button
              type="button"
              class="button button-example"
              onClick={() => {
                onExample(example);
                document.getElementById('message')?.focus();
              }}
            >
              {example}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
