/**
 * A chat client's background tasks: Open WebUI asks the chat's model for a title, tags,
 * follow-up questions, search queries or an autocompletion with a message that starts with
 * `### Task:`. They are answered here, in the JSON shape the task asks for, without touching a
 * session: the repair conversation is not theirs to change.
 */
import { taskReplies } from '../../texts/openai.js';

export const TASK_MARKER = '### Task:';

/** Words of the first user message kept in a title. */
const TITLE_WORDS = 6;
const TITLE_MAX_CHARS = 60;

export function isBackgroundTask(text: string): boolean {
  return text.trimStart().startsWith(TASK_MARKER);
}

/** The JSON keys of the answers the task templates ask for, first found first. */
const TASK_KEY = /\{\s*"(title|tags|follow_ups|queries|text)"\s*:/;

/** A title from the first user line of the task's chat history. */
function titleOf(history: string): string {
  const first = /^USER:\s*(.+)$/m.exec(history)?.[1]?.trim() ?? '';
  const words = first.split(/\s+/).filter(Boolean).slice(0, TITLE_WORDS).join(' ');
  const title = words.slice(0, TITLE_MAX_CHARS).replace(/[\s.,;:!?]+$/, '');
  if (title === '') return taskReplies.defaultTitle;
  return title.charAt(0).toLocaleUpperCase('pt-BR') + title.slice(1);
}

/** The answer to a background task: JSON in the shape its template asks for, else a short
 * text. */
export function taskReply(text: string): string {
  // The instructions come before the chat history, which holds what the user wrote.
  const at = text.indexOf('<chat_history>');
  const instructions = at === -1 ? text : text.slice(0, at);
  const history = at === -1 ? '' : text.slice(at);
  switch (TASK_KEY.exec(instructions)?.[1]) {
    case 'title':
      return JSON.stringify({ title: titleOf(history) });
    case 'tags':
      return JSON.stringify({ tags: taskReplies.tags });
    case 'follow_ups':
      // The next step of a repair is answering 'sim' or 'não', which the reply already asks.
      return JSON.stringify({ follow_ups: [] });
    case 'queries':
      // The agent searches its knowledge base and the web itself.
      return JSON.stringify({ queries: [] });
    case 'text':
      return JSON.stringify({ text: '' });
    default:
      return /\bJSON\b/.test(instructions) ? '{}' : taskReplies.other;
  }
}
