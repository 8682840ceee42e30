/** The HTTP API over the wired application: the admin key resolved, then the server built. */
import type { FastifyInstance } from 'fastify';
import { type AppOptions, createApp } from '../app.js';
import type { Config } from '../config.js';
import { componentLogger, type Logger } from '../logger.js';
import { resolveAdminKey } from './admin-key.js';
import { buildServer } from './server.js';

export interface ApiOptions extends AppOptions {
  config: Config;
  /** Root logger. */
  logger: Logger;
}

export async function createApi(options: ApiOptions): Promise<FastifyInstance> {
  const log = componentLogger(options.logger, 'api.server', 'api');
  const adminKey = await resolveAdminKey(options.config, log);
  if (options.config.sessionAccess === 'id') {
    log.warn(
      { event_type: 'session_access_id' },
      'SESSION_ACCESS=id: quem souber ou adivinhar o id de uma sessão pode continuar, ler e reiniciar essa conversa; use apenas com clientes que não guardam o token (o app web original)',
    );
  }
  const app = await createApp(options);
  try {
    return await buildServer({ app, adminKey });
  } catch (error) {
    await app.close();
    throw error;
  }
}
