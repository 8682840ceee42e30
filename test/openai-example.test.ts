/**
 * The runnable example of docs/openai-compatible.md (examples/openai-chat.mjs) holds a whole
 * repair conversation with a running service, as a person would type it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { turnReplies } from '../src/texts/agent.js';
import { runNode } from './support/run-process.js';
import { testApi } from './support/test-api.js';

const KEY = 'openai-compat-key-for-tests-one';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('examples/openai-chat.mjs', () => {
  it('talks a problem through "não" and "sim" to resolved, then starts over on "novo"', async () => {
    const api = await testApi({ OPENAI_COMPAT_API_KEYS: KEY });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (api.app.server.address() as AddressInfo).port;
      const run = await runNode(['examples/openai-chat.mjs'], {
        cwd: ROOT,
        env: {
          CQL_API_KEY: KEY,
          CQL_BASE_URL: `http://127.0.0.1:${port}/v1`,
          CQL_USER: 'exemplo-ana',
        },
        input: 'a torneira está pingando\nnão\nsim\nnovo\na torneira está pingando\nsair\n',
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.match(run.stdout, /agente> .*O problema foi resolvido\?/s);
      assert.match(run.stdout, /tentativa 2 de 3/);
      assert.ok(run.stdout.includes(turnReplies.resolved), run.stdout);
      const [entry, ...others] = (await api.store.list()).entries;
      assert.equal(others.length, 0, 'one user, one opening: one session');
      const session = JSON.parse((await api.store.get(entry?.id ?? '')) ?? '{}');
      assert.equal(session.state, 'waiting_feedback', '"novo" started it over');
      assert.equal(session.conversation_history.length, 2);
    } finally {
      await api.app.close();
    }
  });

  it('says what is missing without a key', async () => {
    const run = await runNode(['examples/openai-chat.mjs'], { cwd: ROOT, env: {}, input: '' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CQL_API_KEY/);
  });
});
