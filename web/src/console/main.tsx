/** Entry of the operator's console (`/console`). A link `/console#key=...` signs in: the key is
 * stored for this tab and taken out of the address bar before anything is drawn. */
import { render } from 'preact';
import type { KeyValueStorage } from '../chat/held-session.js';
import { keyFromFragment, writeKey } from './admin-key.js';
import { ConsoleApp } from './console-app.js';
import '../shared/base.css';
import './console.css';

function sessionStorageOrNothing(): KeyValueStorage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

const storage = sessionStorageOrNothing();
const { key, rest } = keyFromFragment(window.location.hash);
if (key !== undefined) {
  writeKey(storage, key);
  window.history.replaceState(
    null,
    '',
    `${window.location.pathname}${window.location.search}${rest}`,
  );
}

const root = document.getElementById('app');
if (root) render(<ConsoleApp storage={storage} initialKey={key} />, root);
