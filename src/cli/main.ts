#!/usr/bin/env node
import { dirname, join, resolve } from 'node:path';
/** The `cql-agent` command line. Configuration comes from the environment and `.env`. Every
 * failure ends as one line on standard error (see failure.ts), never a stack trace. */
import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { asyncStdout, createLogger } from '../logger.js';
import { CHAT, ERRORS, HELP, PROGRAM_DESCRIPTION, systemReason } from '../texts/cli.js';
import { VERSION } from '../version.js';
import { sessionIdArgument } from './arguments.js';
import { runChat } from './chat.js';
import { ChatTokens } from './chat-tokens.js';
import { CliError } from './cli-error.js';
import { useCommanderTexts } from './commander-texts.js';
import { describeFailure, oneLine } from './failure.js';
import { registerSessionCommands } from './sessions.js';

/** Prints the failure's line (unless commander already did) and sets the exit code. */
function report(error: unknown): void {
  const failure = describeFailure(error);
  if (failure.message !== undefined)
    process.stderr.write(`${ERRORS.prefix}${oneLine(failure.message)}\n`);
  process.exitCode = failure.exitCode;
}

// An error outside a command's promise (a stream's 'error' event, a stray rejection) is one line
// too. Under `serve`, close-with-grace also listens: it closes the server, then exits.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    report(error);
    if (process.listenerCount(event) === 1) process.exit();
  });
}
// Standard error gone (a closed pipe): nothing left to tell.
process.stderr.on('error', () => process.exit());
// `cql-agent sessions export | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') {
    const reason = systemReason(error.code, error.message);
    report(new CliError(ERRORS.cannotWriteStandardOutput(reason)));
  }
  process.exit();
});

const program = useCommanderTexts(
  new Command('cql-agent')
    .description(PROGRAM_DESCRIPTION)
    .version(VERSION, '-V, --version', HELP.version),
);
// Usage errors (commander has printed them) exit 2 like the others; set before the subcommands,
// which inherit it.
program.exitOverride();

program
  .command('serve')
  .description(HELP.serve)
  .action(async () => {
    const config = loadConfig();
    // Loaded here: the HTTP stack is not needed by the other commands, which start faster.
    const { serve } = await import('./serve.js');
    await serve(config, createLogger({ level: config.logLevel, destination: asyncStdout() }));
  });

program
  .command('chat')
  .description(HELP.chat)
  .option('-s, --session <id>', HELP.chatSession, sessionIdArgument)
  .option('-t, --token <token>', CHAT.tokenOption)
  .action(async (options: { session?: string; token?: string }) => {
    const config = loadConfig();
    // Logs go to standard error so they do not mix with the conversation.
    const logger = createLogger({
      level: config.logLevel,
      destination: pino.destination({ dest: 2, sync: true }),
    });
    // Beside the generated admin key: the folder the service keeps its own state in.
    const tokensPath = join(dirname(resolve(config.api.adminApiKeyFile)), 'chat-tokens.json');
    const tokens = await ChatTokens.open(tokensPath);
    const { createApp } = await import('../app.js');
    const app = await createApp({ config, logger });
    try {
      await runChat({
        manager: app.manager,
        sessionId: options.session,
        token: options.token,
        tokens,
        input: process.stdin,
        output: process.stdout,
      });
    } finally {
      await app.close();
    }
  });

registerSessionCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  report(error);
}
