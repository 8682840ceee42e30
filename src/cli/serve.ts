/**
 * Runs the HTTP API until SIGTERM or SIGINT, then closes gracefully: no new connections,
 * requests in flight finish (and save their sessions), Redis is closed, exit code 0.
 */
import closeWithGrace from 'close-with-grace';
import { createApi } from '../api/create-api.js';
import type { Config } from '../config.js';
import { componentLogger, type Logger } from '../logger.js';

/** Longest wait for requests in flight before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10000;

export async function serve(config: Config, logger: Logger): Promise<void> {
  const app = await createApi({ config, logger });
  const log = componentLogger(logger, 'api.server', 'api');
  const grace = closeWithGrace(
    { delay: SHUTDOWN_GRACE_MS, logger: false },
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
