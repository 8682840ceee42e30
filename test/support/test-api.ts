/** The HTTP API over a fresh memory store, with its logs captured, for inject() tests. */
import type { Responder } from '../../src/agent/types.js';
import { createApi } from '../../src/api/create-api.js';
import { MemorySessionStore } from '../../src/sessions/stores/memory.js';
import { injectClient } from './chat.js';
import { captureLogs, testConfig, testResponder } from './fixtures.js';

/** The admin key of the APIs made by testApi(), unless `env` sets another. */
export const TEST_ADMIN_KEY = 'a-long-admin-key-for-tests';

/**
 * `responder`: the one to answer with; by default the bundled offline responder;
 * `'configured'` lets the configuration choose (LLM_PROVIDER and the rest).
 * The rate limit is off unless `env` sets it.
 */
export async function testApi(
  env: Record<string, string> = {},
  responder?: Responder | 'configured',
) {
  const logs = captureLogs('info');
  const store = new MemorySessionStore();
  const app = await createApi({
    config: testConfig({ RATE_LIMIT_PER_MINUTE: '0', ADMIN_API_KEY: TEST_ADMIN_KEY, ...env }),
    logger: logs.logger,
    store,
    responder: responder === 'configured' ? undefined : (responder ?? (await testResponder())),
  });
  return { app, logs, store, client: injectClient(app) };
}
