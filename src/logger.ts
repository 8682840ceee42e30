/**
 * pino JSON lines shaped like the documented examples: `timestamp`, `level` ("INFO",
 * "WARNING", ...), `logger`, `message`, `component`, plus event fields in snake_case.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';
import { isoTime } from './iso-time.js';

export type { Logger } from 'pino';

const LEVEL_NAMES: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export interface LoggerOptions {
  /** @default "info" */
  level?: LogLevel;
  /** Where lines go. @default standard output */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      messageKey: 'message',
      base: undefined,
      timestamp: () => `,"timestamp":"${isoTime()}"`,
      formatters: { level: (label) => ({ level: LEVEL_NAMES[label] ?? label.toUpperCase() }) },
      // Second line of defence: call sites log redacted URLs and never a password field.
      redact: {
        paths: ['password', '*.password', '*.*.password', 'redis_password'],
        censor: '***',
      },
    },
    options.destination,
  );
}

/** Standard output written asynchronously (flushed at exit): for the server's steady stream of
 * request lines, where one write per line would cost a system call each. */
export function asyncStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

/** A child logger for one part of the system: `component` is "session" or "api". */
export function componentLogger(parent: Logger, name: string, component = 'session'): Logger {
  return parent.child({ logger: name, component });
}

/** A logger that writes nothing: the default for library use without a logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
