import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMessages, promptStage, systemPrompt } from '../src/agent/llm/prompts.js';
import { FEEDBACK_QUESTION } from '../src/agent/replies.js';
import type { ChatMessage, SolutionRequest } from '../src/agent/types.js';

const at = '2025-01-01T00:00:00.000Z';
const history: ChatMessage[] = Array.from({ length: 20 }, (_, i) => ({
  role: i % 2 === 0 ? 'user' : 'assistant',
  content: `m${i}`,
  at,
}));
const request = (attempt: number, maxAttempts = 3): SolutionRequest => ({
  problem: 'a porta está rangendo',
  message: attempt === 1 ? 'a porta está rangendo' : 'não',
  attempt,
  maxAttempts,
  history,
  useRag: true,
  useWebSearch: true,
});

describe('prompts', () => {
  it('knows the stage from the attempt and the limit', () => {
    assert.equal(promptStage(1, 3), 'first_attempt');
    assert.equal(promptStage(2, 3), 'next_attempt');
    assert.equal(promptStage(3, 3), 'last_attempt');
    assert.equal(promptStage(1, 1), 'first_attempt', 'a single attempt is still a first try');
    assert.equal(promptStage(2, 2), 'last_attempt');
  });

  it('ends every stage with the sim/não question, and only the last one recommends a professional', () => {
    for (const attempt of [1, 2, 3]) {
      const prompt = systemPrompt(request(attempt));
      assert.ok(prompt.endsWith(`"${FEEDBACK_QUESTION}"`), `attempt ${attempt}`);
      assert.equal(/recomende chamar um profissional/.test(prompt), attempt === 3);
    }
  });

  it('sends the system prompt, the bounded history and the message of the turn', () => {
    const messages = buildMessages(request(2), {}, 4);
    assert.deepEqual(messages.map((m) => m.content).slice(1), ['m16', 'm17', 'm18', 'm19', 'não']);
    assert.equal(messages[0]?.role, 'system');
    assert.ok(
      messages.every((m) => !('at' in m)),
      'only role and content are sent',
    );
    assert.equal(buildMessages(request(2), {}, 100).length, 1 + 20 + 1);
  });

  it('uses the problem as the message when none is given', () => {
    const { message: _, ...withoutMessage } = request(1);
    assert.equal(buildMessages(withoutMessage, {}, 0).at(-1)?.content, 'a porta está rangendo');
  });
});
