/** Parsers of command-line values: a bad one stops the command with a usage error (exit 2). */
import { InvalidArgumentError } from 'commander';
import { isValidSessionId } from '../sessions/session-id.js';
import { USAGE_ERRORS } from '../texts/cli.js';
import { CliError } from './cli-error.js';

export const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(USAGE_ERRORS.positiveNumber);
  return n;
};

/** Checked here, before any store: the message names the value refused. */
export const sessionIdArgument = (value: string): string => {
  if (!isValidSessionId(value)) throw new CliError(USAGE_ERRORS.invalidSessionId(value), 2);
  return value;
};
