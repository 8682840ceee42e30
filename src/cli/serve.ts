/**
 * Runs the HTTP API until SIGTERM or SIGINT, then closes gracefully: no new connections,
 * requests in flight finish (and save their sessions), Redis is closed, exit code 0.
 */
import closeWithGrace from 'close-with-grace';
import { createApi } from '../api/create-api.js';
import type { Config } from '../config.js';
import { componentLogger, type Logger } from '../logger.js';

/** Time for loading and saving a session and closing the store, beside the model's work. */
const SHUTDOWN_MARGIN_MS = 10000;

/**
 * Longest wait for requests in flight before the process exits anyway: a chat turn's model work
 * (web search and model call together) takes at most LLM_TIMEOUT, so the grace is LLM_TIMEOUT
 * plus 10 s with a language model, and 10 s without one.
 */
export function shutdownGraceMs(config: Config): number {
  const modelMs = config.llm.provider === 'offline' ? 0 : config.llm.timeoutMs;
  return modelMs + SHUTDOWN_MARGIN_MS;
}

export async function serve(config: Config, logger: Logger): Promise<void> {
  const app = await createApi({ config, logger });
  const log = componentLogger(logger, 'api.server', 'api');
  const grace = closeWithGrace(
    { delay: shutdownGraceMs(config), logger: false },
    async ({ signal, err }) => {
      if (err) log.error({ err, event_type: 'server_crash' }, 'Erro fatal: encerrando o servidor');
      else
        log.info(
          { signal, event_type: 'server_stopping' },
          'Sinal recebido: encerrando o servidor',
        );
      await app.close();
      log.info({ event_type: 'server_stopped' }, 'Servidor encerrado');
    },
  );
  try {
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    // e.g. the port is taken: release Redis and the timers, so the process can exit.
    grace.uninstall();
    await app.close();
    throw error;
  }
}
