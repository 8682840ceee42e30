#!/usr/bin/env node
/** The `cql-agent` command line. Configuration comes from the environment and `.env`. */
import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { createResponder } from '../agent/llm/create-responder.js';
import { ConfigError, loadConfig } from '../config.js';
import { asyncStdout, createLogger } from '../logger.js';
import { SessionError } from '../sessions/errors.js';
import { SessionManager } from '../sessions/manager.js';
import { assertSessionId } from '../sessions/session-id.js';
import { runChat } from './chat.js';
import { CliError, registerSessionCommands } from './sessions.js';

const program = new Command('cql-agent').description('CQL Agent: assistente de reparos domésticos');
// Usage errors (commander has printed them) exit 2 like the others; set before the subcommands,
// which inherit it.
program.exitOverride();

program
  .command('serve')
  .description('run the HTTP API (HOST, PORT; sessions in memory, or in Redis with USE_REDIS=true)')
  .action(async () => {
    const config = loadConfig();
    // Loaded here: the HTTP stack is not needed by the other commands, which start faster.
    const { serve } = await import('./serve.js');
    await serve(config, createLogger({ level: config.logLevel, destination: asyncStdout() }));
  });

program
  .command('chat')
  .description("interactive assistant in the terminal ('novo' for a new problem, 'sair' to quit)")
  .option('-s, --session <id>', 'session id to start or continue', 'default')
  .action(async (options: { session: string }) => {
    assertSessionId(options.session);
    const config = loadConfig();
    // Logs go to standard error so they do not mix with the conversation.
    const logger = createLogger({
      level: config.logLevel,
      destination: pino.destination({ dest: 2, sync: true }),
    });
    const responder = await createResponder(config, logger);
    const manager = await SessionManager.create({ config, logger, responder });
    try {
      await runChat({
        manager,
        sessionId: options.session,
        input: process.stdin,
        output: process.stdout,
      });
    } finally {
      await manager.close();
    }
  });

registerSessionCommands(program);
// `cql-agent sessions export | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync();
} catch (error) {
  // Expected failures are one clear line; anything else keeps its stack.
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CliError) {
    process.stderr.write(`cql-agent: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`cql-agent: invalid configuration: ${error.problems.join('; ')}\n`);
    process.exitCode = 2;
  } else {
    const expected = error instanceof SessionError;
    process.stderr.write(`cql-agent: ${expected ? error.message : (error as Error).stack}\n`);
    process.exitCode = expected ? 2 : 1;
  }
}
