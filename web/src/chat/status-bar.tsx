/** Where the repair stands: "Tentativa n de m" while approaches are tried, then the outcome. */
import { chat } from '../../../src/texts/web.js';
import type { AgentState } from './chat-api.js';

export interface StatusBarProps {
  agentState: AgentState;
  attempt: { current: number; max: number } | null;
}

export function StatusBar({ agentState, attempt }: StatusBarProps) {
  // While waiting for Sim / Não the attempt says enough (the buttons ask the question): on a
  // phone the bar stays one line.
  const outcome =
    agentState === 'resolved'
      ? { text: chat.stateResolved, tone: 'ok' }
      : agentState === 'max_attempts'
        ? { text: chat.stateProfessional, tone: 'stop' }
        : agentState === 'waiting_feedback' && attempt === null
          ? { text: chat.stateWaiting, tone: 'wait' }
          : undefined;
  if (outcome === undefined && attempt === null) return null;
  return (
    <div class="status-bar" role="status">
      {attempt && (
        <span class="badge badge-attempt">{chat.attempt(attempt.current, attempt.max)}</span>
      )}
      {outcome && <span class={`badge badge-${outcome.tone}`}>{outcome.text}</span>}
    </div>
  );
}
