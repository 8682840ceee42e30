/** Entry of the chat page (`/`). */
import { render } from 'preact';
import { ChatApp } from './chat-app.js';
import { ChatClient } from './chat-client.js';
import type { KeyValueStorage } from './held-session.js';
import '../shared/base.css';
import './chat.css';

/** localStorage, or nothing where the browser blocks it (reading it throws). */
function localStorageOrNothing(): KeyValueStorage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

const root = document.getElementById('app');
if (root) render(<ChatApp client={new ChatClient()} storage={localStorageOrNothing()} />, root);
