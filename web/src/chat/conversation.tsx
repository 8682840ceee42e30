/** The conversation: the person's messages, the assistant's replies (with the guides they came
 * from), the reply being written, and the Sim / Não answer when the assistant asks for it. */
import { useEffect, useRef } from 'preact/hooks';
import { chat } from '../../../src/texts/web.js';
import { guideName } from '../shared/guide-name.js';
import type { Activity, ChatMessage } from './message-store.js';
import { ReplyView } from './reply-view.js';

function Message({ message }: { message: ChatMessage }) {
  const mine = message.role === 'user';
  return (
    <li class={`message ${mine ? 'message-user' : 'message-assistant'}`}>
      <p class="message-author">{mine ? chat.you : chat.assistant}</p>
      <div class={`bubble${message.streaming ? ' bubble-streaming' : ''}`}>
        {mine ? <p class="user-text">{message.text}</p> : <ReplyView text={message.text} />}
      </div>
      {message.sources.length > 0 && (
        <p class="sources">
          {chat.sources} {message.sources.map(guideName).join(', ')}
        </p>
      )}
    </li>
  );
}

export interface ConversationProps {
  messages: readonly ChatMessage[];
  activity: Activity;
  askFeedback: boolean;
  onAnswer: (text: string) => void;
}

export function Conversation({ messages, activity, askFeedback, onAnswer }: ConversationProps) {
  const end = useRef<HTMLDivElement>(null);
  const last = messages.at(-1);
  // The newest message (and the reply as it grows) stays in view.
  useEffect(() => {
    const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    end.current?.scrollIntoView({ block: 'end', behavior: still ? 'auto' : 'smooth' });
  }, [messages.length, last?.text.length, activity, askFeedback]);

  return (
    <section
      class="conversation"
      aria-label={chat.conversationLabel}
      aria-busy={activity !== 'idle'}
    >
      <ol class="messages">
        {messages.map((message) => (
          <Message key={message.key} message={message} />
        ))}
      </ol>
      {activity === 'sending' && (
        <p class="writing" role="status">
          <span class="dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {chat.writing}
        </p>
      )}
      {activity === 'loading' && (
        <p class="writing" role="status">
          {chat.loadingHistory}
        </p>
      )}
      {askFeedback && (
        <fieldset class="feedback">
          <legend>{chat.feedbackQuestion}</legend>
          <button type="button" class="button button-yes" onClick={() => onAnswer(chat.yesMessage)}>
            {chat.yes}
          </button>
          <button type="button" class="button button-no" onClick={() => onAnswer(chat.noMessage)}>
            {chat.no}
          </button>
        </fieldset>
      )}
      <div ref={end} />
    </section>
  );
}
