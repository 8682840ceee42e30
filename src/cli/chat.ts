/**
 * The interactive assistant in a terminal: every turn is loaded from and saved through the
 * SessionManager, so running it again with the same session id continues the conversation.
 * 'novo' starts a new problem, 'sair' quits; end of input quits too.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { normalizeText } from '../agent/text.js';
import type { SessionManager } from '../sessions/manager.js';

export interface ChatOptions {
  manager: SessionManager;
  sessionId: string;
  input: Readable;
  output: Writable;
}

const NEW_PROBLEM_REPLY = 'Certo, vamos começar um novo problema. Descreva o que está acontecendo.';

export async function runChat({ manager, sessionId, input, output }: ChatOptions): Promise<void> {
  const say = (text: string) => output.write(`${text}\n\n`);
  const agent = await manager.getOrCreateAgent(sessionId);
  say(
    `CQL Agent, assistente de reparos domésticos (sessão "${sessionId}", armazenamento ${manager.backend}).\n` +
      "Descreva o problema. Digite 'novo' para um novo problema ou 'sair' para encerrar.",
  );
  const last = agent.conversationHistory.at(-1);
  if (last?.role === 'assistant') {
    say(
      `Continuando a conversa (${agent.conversationHistory.length} mensagens). Última resposta:\n${last.content}`,
    );
  }

  const terminal = 'isTTY' in input && input.isTTY === true;
  const lines = createInterface({ input, output, terminal, prompt: 'Você: ' });
  const prompt = () => terminal && lines.prompt();
  prompt();
  for await (const line of lines) {
    const text = line.trim();
    const command = normalizeText(text);
    if (command === 'sair') break;
    if (text !== '') {
      try {
        // Reloaded each turn: another process may have continued this conversation meanwhile.
        const current = await manager.getOrCreateAgent(sessionId);
        let reply: string;
        if (command === 'novo') {
          current.reset();
          reply = NEW_PROBLEM_REPLY;
        } else {
          reply = await current.chat(text);
        }
        await manager.updateAgent(sessionId, current);
        say(`Assistente: ${reply}`);
      } catch (error) {
        say(`Erro: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    prompt();
  }
  lines.close();
  say('Até logo!');
}
