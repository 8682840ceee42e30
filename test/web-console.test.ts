/** The console's own logic: durations, sizes and ratios in pt-BR, the key from a `#key=` link,
 * and the admin client over real HTTP (the Bearer key, the listing's query, 401 and 404). */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { operator } from '../src/texts/web.js';
import { AdminClient, adminMessage, isUnauthorized } from '../web/src/console/admin-client.js';
import { keyFromFragment, readKey, writeKey } from '../web/src/console/admin-key.js';
import {
  formatBytes,
  formatDuration,
  formatPercent,
  hitRatio,
  ttlLeft,
} from '../web/src/console/format.js';
import { guideName } from '../web/src/shared/guide-name.js';

describe('console formats', () => {
  it('writes durations from seconds to days, and no expiry', () => {
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(725), '12 min 05 s');
    assert.equal(formatDuration(3600 * 3 + 7 * 60), '3 h 07 min');
    assert.equal(formatDuration(86400 * 2 + 3600 * 4), '2 d 04 h');
    assert.equal(formatDuration(0), operator.expired);
    assert.equal(formatDuration(null), operator.noExpiry);
  });

  it('counts a TTL down from when it was read, never below zero', () => {
    assert.equal(ttlLeft(60, 1_000, 1_000), 60);
    assert.equal(ttlLeft(60, 1_000, 11_999), 50);
    assert.equal(ttlLeft(60, 1_000, 120_000), 0);
    assert.equal(ttlLeft(null, 1_000, 5_000), null);
  });

  it('writes sizes and ratios the Brazilian way', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(6349), '6,2 KB');
    assert.equal(formatBytes(256 * 1024 * 1024), '256 MB');
    assert.equal(formatBytes(null), operator.none);
    assert.equal(hitRatio(973, 27), 0.973);
    assert.equal(hitRatio(0, 0), undefined);
    assert.equal(hitRatio(null, 3), undefined);
    assert.equal(formatPercent(0.973).replace(/\s/g, ' '), '97,3%');
    assert.equal(formatPercent(undefined), operator.none);
  });

  it('names guides from their file names', () => {
    assert.equal(guideName('torneira-pingando'), 'Torneira pingando');
    assert.equal(guideName('cheiro_de-gas'), 'Cheiro de gas');
  });
});

describe('admin key', () => {
  it('is read from a #key= link, which loses it', () => {
    assert.deepEqual(keyFromFragment('#key=s3cr3t-key-0123456789'), {
      key: 's3cr3t-key-0123456789',
      rest: '',
    });
    assert.deepEqual(keyFromFragment('#key=abc&tab=sessoes'), { key: 'abc', rest: '#tab=sessoes' });
    assert.deepEqual(keyFromFragment('#sessoes'), { key: undefined, rest: '#sessoes' });
    assert.deepEqual(keyFromFragment('#key=a%2Bb%3D'), { key: 'a+b=', rest: '' });
    assert.deepEqual(keyFromFragment('#key=a+b/c='), { key: 'a+b/c=', rest: '' });
    assert.deepEqual(keyFromFragment(''), { key: undefined, rest: '' });
    assert.deepEqual(keyFromFragment('#key='), { key: undefined, rest: '' });
  });

  it("lives in the tab's storage until signing out", () => {
    const values = new Map<string, string>();
    const storage = {
      getItem: (key: string) => values.get(key) ?? null,
      setItem: (key: string, value: string) => void values.set(key, value),
      removeItem: (key: string) => void values.delete(key),
    };
    assert.equal(readKey(storage), undefined);
    writeKey(storage, 'k');
    assert.equal(readKey(storage), 'k');
    writeKey(storage, undefined);
    assert.equal(readKey(storage), undefined);
  });
});

describe('AdminClient', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; authorization: string | undefined; method: string; body: string }[] =
    [];

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({
          url: request.url ?? '',
          authorization: request.headers.authorization,
          method: request.method ?? '',
          body,
        });
        const send = (status: number, value?: unknown) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(value === undefined ? undefined : JSON.stringify(value));
        };
        if (request.headers.authorization !== 'Bearer right-key-0123456789') {
          return send(401, { detail: 'Chave necessária.' });
        }
        if (request.url?.startsWith('/api/v1/chat/sessions')) {
          return send(200, {
            sessions: [
              {
                session_id: 'a',
                state: 'resolved',
                current_attempt: 1,
                ttl: 30,
                updated_at: '2026-01-01T00:00:00Z',
                size_bytes: 900,
              },
            ],
            total: 1,
            cursor: '17',
          });
        }
        if (request.url === '/api/v1/sessions/a' && request.method === 'DELETE') return send(204);
        if (request.url === '/api/v1/sessions/a/ttl')
          return send(200, { session_id: 'a', ttl: 120 });
        return send(404, { detail: 'Não existe a rota.' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the key and the listing's query, and reads a page with its cursor", async () => {
    const client = new AdminClient('right-key-0123456789', { base });
    const page = await client.sessions({
      limit: 25,
      cursor: '9',
      state: 'resolved',
      prefix: 'web-',
    });
    assert.ok(page.ok);
    assert.equal(page.value.cursor, '17');
    assert.equal(page.value.sessions[0]?.size_bytes, 900);
    const request = seen.at(-1);
    assert.equal(request?.authorization, 'Bearer right-key-0123456789');
    assert.equal(
      request?.url,
      '/api/v1/chat/sessions?limit=25&cursor=9&state=resolved&prefix=web-',
    );
  });

  it('deletes (204, no body) and sets a TTL', async () => {
    const client = new AdminClient('right-key-0123456789', { base });
    assert.deepEqual(await client.deleteSession('a'), { ok: true, value: null });
    assert.deepEqual(await client.setTtl('a', 120), { ok: true, value: { ttl: 120 } });
    assert.deepEqual(JSON.parse(seen.at(-1)?.body ?? ''), { ttl_seconds: 120 });
  });

  it('turns a wrong key into a 401 that signs out, and a missing route into "not available"', async () => {
    const wrong = await new AdminClient('wrong', { base }).store();
    assert.ok(!wrong.ok);
    assert.ok(isUnauthorized(wrong.failure));
    assert.equal(adminMessage(wrong.failure), operator.keyRefused);

    const missing = await new AdminClient('right-key-0123456789', { base }).outcomes();
    assert.ok(!missing.ok);
    assert.equal(isUnauthorized(missing.failure), false);
    assert.equal(adminMessage(missing.failure), operator.notAvailable(404));
  });

  it('names the loopback rule on 403, the detail otherwise, and the network when nothing answers', () => {
    assert.equal(adminMessage({ kind: 'http', status: 403, detail: 'x' }), operator.loopbackOnly);
    assert.equal(
      adminMessage({ kind: 'http', status: 500, detail: 'Erro interno.' }),
      'Erro interno.',
    );
    assert.equal(
      adminMessage({ kind: 'http', status: 500, detail: undefined }),
      operator.refused(500, undefined),
    );
    assert.equal(adminMessage({ kind: 'network' }), operator.network);
  });
});
