/** How the agent frames a solution: which attempt it is before it, the feedback question after
 * it, each left out when the solution already has it (a model is told to write both). */
import { FEEDBACK_QUESTION, turnReplies } from '../texts/agent.js';

/** A text that already ends by asking for 'sim' or 'não' (as a model is told to). */
const ASKS_FOR_FEEDBACK = /\bsim\W{0,3}\s+ou\s+\W{0,3}n[aã]o\W{0,3}\s*$/i;

/** What follows a solution: the feedback question, unless the solution already ends with one. */
export function feedbackSuffix(solution: string): string {
  return ASKS_FOR_FEEDBACK.test(solution) ? '' : `\n\n${FEEDBACK_QUESTION}`;
}

/** Whether a text names this attempt ("tentativa 2 de 3", "tentativa 2/3"). */
export function namesAttempt(text: string, attempt: number, maxAttempts: number): boolean {
  return new RegExp(`tentativa\\s*${attempt}\\s*(de|/)\\s*${maxAttempts}\\b`, 'i').test(text);
}

/** What goes before a later attempt's solution that does not name the attempt itself. */
export function attemptPrefix(attempt: number, maxAttempts: number): string {
  return `${turnReplies.nextAttempt(attempt, maxAttempts)}\n\n`;
}
