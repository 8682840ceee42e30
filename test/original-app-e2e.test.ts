/**
 * The original web app's request sequence against a real server process, as a browser on
 * http://localhost:5173 sends it: preflights included, no session token (the original app does
 * not hold one: the server runs with SESSION_ACCESS=id, as the README says for it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiProcess, startApiProcess } from './support/api-process.js';

const ORIGIN = 'http://localhost:5173';
const ADMIN_KEY = 'a-long-admin-key-for-the-original-app';

describe('the original web app, end to end', () => {
  let api: ApiProcess;
  before(async () => {
    api = await startApiProcess({ SESSION_ACCESS: 'id', ADMIN_API_KEY: ADMIN_KEY });
  });
  after(async () => {
    await api?.stop();
  });

  /** What the browser sends before a request that is not "simple". */
  const preflight = async (method: string, path: string, headers: string) => {
    const response = await fetch(`${api.base}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': method,
        ...(headers && { 'access-control-request-headers': headers }),
      },
    });
    assert.equal(response.status, 204, `preflight ${method} ${path}`);
    assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(String(response.headers.get('access-control-allow-methods')), new RegExp(method));
  };

  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field below
  type Json = any;
  const call = async (method: string, path: string, body?: object, headers = {}): Promise<Json> => {
    const response = await fetch(`${api.base}${path}`, {
      method,
      headers: {
        origin: ORIGIN,
        ...(body && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body && JSON.stringify(body),
    });
    assert.ok(
      response.ok,
      `${method} ${path}: ${response.status} ${await response.clone().text()}`,
    );
    assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
    return response.status === 204 ? undefined : response.json();
  };

  it('creates, answers "não" twice, resets with DELETE and lists: every step 2xx', async () => {
    const id = 'original-app-1';
    await preflight('POST', '/api/v1/chat/message', 'content-type');
    const created = await call('POST', '/api/v1/chat/message', {
      message: 'a torneira está pingando',
      session_id: id,
    });
    assert.equal(created.session_id, id);
    assert.equal(created.state, 'waiting_feedback');
    for (const attempt of [2, 3]) {
      const turn = await call('POST', '/api/v1/chat/message', { message: 'não', session_id: id });
      assert.equal(turn.metadata.current_attempt, attempt);
    }

    await preflight('DELETE', `/api/v1/chat/reset/${id}`, '');
    const reset = await call('DELETE', `/api/v1/chat/reset/${id}`);
    assert.match(reset.message, /resetada/);

    await preflight('GET', '/api/v1/chat/sessions', 'authorization');
    const listed = await call('GET', '/api/v1/chat/sessions', undefined, {
      authorization: `Bearer ${ADMIN_KEY}`,
    });
    const entry = listed.sessions.find((s: { session_id: string }) => s.session_id === id);
    assert.equal(entry?.state, 'new_problem');
    assert.equal(entry?.current_attempt, 0);

    const details = await call('GET', `/api/v1/sessions/${id}`, undefined, {
      authorization: `Bearer ${ADMIN_KEY}`,
    });
    assert.deepEqual(details.conversation_history, [], 'the reset cleared the history');

    const again = await call('POST', '/api/v1/chat/message', {
      message: 'a pia está entupida',
      session_id: id,
    });
    assert.equal(again.metadata.current_attempt, 1, 'the next message is a new problem');
  });
});
