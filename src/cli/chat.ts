/**
 * The interactive assistant in a terminal. Every turn goes through `manager.runTurn`, as the HTTP
 * chat route's do, with the session's token, which the chat keeps (see chat-tokens.ts): running
 * it again with the same session id continues the conversation. 'novo' starts a new problem,
 * 'sair' quits; end of input quits too.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { normalizeText } from '../agent/text.js';
import { toHttpProblem } from '../api/errors.js';
import { SessionAccessDeniedError, SessionNotFoundError } from '../sessions/errors.js';
import type { SessionManager } from '../sessions/manager.js';
import { CHAT } from '../texts/cli.js';
import type { ChatTokens } from './chat-tokens.js';
import { describeFailure } from './failure.js';

export interface ChatOptions {
  manager: SessionManager;
  /** The session to continue or start; undefined: a new one, under a random id. */
  sessionId: string | undefined;
  /** Tokens of the sessions this terminal started. */
  tokens: ChatTokens;
  /** A token given on the command line, for a session started elsewhere. */
  token?: string | undefined;
  input: Readable;
  output: Writable;
}

export async function runChat(options: ChatOptions): Promise<void> {
  const { manager, tokens, input, output } = options;
  const say = (text: string) => output.write(`${text}\n\n`);
  let sessionId = options.sessionId;
  const tokenOf = () =>
    sessionId === undefined ? undefined : (options.token ?? tokens.get(sessionId));

  say(CHAT.greeting(sessionId ?? '(nova)', manager.backend));
  if (sessionId !== undefined) {
    try {
      const history = await manager.history(sessionId, { token: tokenOf() });
      const last = history.messages.at(-1);
      if (last?.role === 'assistant') say(CHAT.continuing(history.messages.length, last.content));
    } catch (error) {
      // Unknown (a new conversation starts) or someone else's (the first message says so).
      if (!(error instanceof SessionNotFoundError)) throw error;
    }
  }

  const terminal = 'isTTY' in input && input.isTTY === true;
  const lines = createInterface({ input, output, terminal, prompt: CHAT.prompt });
  const prompt = () => terminal && lines.prompt();
  prompt();
  for await (const line of lines) {
    const text = line.trim();
    const command = normalizeText(text);
    if (command === 'sair') break;
    if (text !== '') {
      try {
        if (command === 'novo') {
          if (sessionId !== undefined) await reset(manager, tokens, sessionId, tokenOf());
          say(CHAT.newProblem);
        } else {
          const outcome = await manager.runTurn(sessionId, text, { token: tokenOf() });
          if (outcome.token !== undefined) await tokens.set(outcome.sessionId, outcome.token);
          const created = sessionId === undefined;
          sessionId = outcome.sessionId;
          say(CHAT.reply(outcome.result.reply));
          if (created) say(CHAT.created(sessionId));
        }
      } catch (error) {
        // The same sentence the HTTP API would answer (a model that failed, a store away).
        const message =
          error instanceof SessionAccessDeniedError
            ? CHAT.notYours(error.sessionId)
            : (toHttpProblem(error)?.body.detail ??
              describeFailure(error).message ??
              String(error));
        say(CHAT.error(message));
      }
    }
    prompt();
  }
  lines.close();
  say(CHAT.goodbye);
}

/** Starts the session over; one that does not exist yet needs nothing. */
async function reset(
  manager: SessionManager,
  tokens: ChatTokens,
  sessionId: string,
  token: string | undefined,
): Promise<void> {
  try {
    const { token: issued } = await manager.resetSession(sessionId, { token });
    if (issued !== undefined) await tokens.set(sessionId, issued);
  } catch (error) {
    if (!(error instanceof SessionNotFoundError)) throw error;
  }
}
