/** The chat's reading of API errors: status and body -> the Portuguese sentence, Retry-After ->
 * the wait, no answer -> its own message; and the event-stream parser the streamed turn uses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors } from '../src/texts/web.js';
import {
  describeFailure,
  detailOf,
  httpFailure,
  parseRetryAfter,
} from '../web/src/shared/api-failure.js';
import { SseParser } from '../web/src/shared/sse.js';

const body = (detail: unknown) => JSON.stringify({ detail });

describe('describeFailure', () => {
  it("shows the server's Portuguese detail for 422, 409, 413, 502, 503, 504 and 500", () => {
    for (const status of [422, 409, 413, 502, 503, 504, 500]) {
      const detail = `Detalhe do erro ${status}.`;
      const view = describeFailure(httpFailure(status, body(detail)));
      assert.equal(view.message, detail, String(status));
      assert.equal(view.sessionLost, false);
    }
  });

  it('has its own sentence for each status when the body has no detail', () => {
    const cases: [number, string][] = [
      [422, errors.invalid],
      [409, errors.conflict],
      [413, errors.tooLarge],
      [502, errors.badGateway],
      [503, errors.unavailable],
      [504, errors.timeout],
      [500, errors.server(500)],
      [418, errors.unexpected(418)],
    ];
    for (const [status, message] of cases) {
      assert.equal(describeFailure(httpFailure(status, '<html>proxy</html>')).message, message);
    }
  });

  it('says which failures are worth sending again', () => {
    const retryable = (status: number) => describeFailure(httpFailure(status, '')).retryable;
    assert.equal(retryable(422), false, 'the same text would be refused again');
    assert.equal(retryable(413), false, 'the conversation must be reset first');
    for (const status of [409, 429, 502, 503, 504, 500]) assert.equal(retryable(status), true);
  });

  it('takes the wait of a 429 from Retry-After', () => {
    const withDetail = describeFailure(
      httpFailure(429, body('Muitas mensagens: no máximo 2 por minuto.'), '37'),
    );
    assert.equal(withDetail.message, 'Muitas mensagens: no máximo 2 por minuto.');
    assert.equal(withDetail.retryAfterSeconds, 37);

    const bare = describeFailure(httpFailure(429, '', '37'));
    assert.equal(bare.message, errors.rateLimited(37));
    assert.match(bare.message, /37 segundos/);

    const unknownWait = describeFailure(httpFailure(429, ''));
    assert.equal(unknownWait.retryAfterSeconds, undefined);
    assert.equal(unknownWait.message, errors.rateLimited(undefined));
  });

  it('starts the conversation over on 403 (a refused token) and 404 (a session gone)', () => {
    const refused = describeFailure(httpFailure(403, body('Token inválido')));
    assert.deepEqual([refused.sessionLost, refused.message], [true, errors.sessionRefused]);
    const gone = describeFailure(httpFailure(404, body('Sessão não encontrada')));
    assert.deepEqual([gone.sessionLost, gone.message], [true, errors.sessionGone]);
  });

  it('gives a lost connection its own message, apart from a reply cut half-way', () => {
    const lost = describeFailure({ kind: 'network', midStream: false });
    assert.equal(lost.message, errors.network);
    assert.equal(lost.retryable, true);
    assert.equal(describeFailure({ kind: 'network', midStream: true }).message, errors.streamCut);
  });
});

describe('detailOf and parseRetryAfter', () => {
  it('reads a detail only from a JSON body with a short string', () => {
    assert.equal(detailOf(body('  Texto.  ')), 'Texto.');
    assert.equal(detailOf(body('')), undefined);
    assert.equal(detailOf(body(42)), undefined);
    assert.equal(detailOf(body('x'.repeat(601))), undefined);
    assert.equal(detailOf('null'), undefined);
    assert.equal(detailOf('not json'), undefined);
  });

  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120);
    assert.equal(parseRetryAfter(' 5 ', now), 5);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});

describe('SseParser', () => {
  it('reads events whatever the chunk boundaries', () => {
    const stream =
      'event: delta\ndata: {"text":"Olá"}\n\n: keep-alive\n\nevent: done\ndata: {"a":1}\n\n';
    for (let size = 1; size <= stream.length; size++) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < stream.length; at += size)
        events.push(...parser.push(stream.slice(at, at + size)));
      assert.deepEqual(
        events,
        [
          { event: 'delta', data: '{"text":"Olá"}' },
          { event: 'done', data: '{"a":1}' },
        ],
        `chunks of ${size}`,
      );
    }
  });

  it('reads CRLF and CR line ends, split between chunks too', () => {
    const parser = new SseParser();
    const events = [
      ...parser.push('data: a\r'),
      ...parser.push('\n\r\n'),
      // A "\r" at a chunk's end may be half of "\r\n": the line ends when the next chunk shows.
      ...parser.push('data: b\r\r'),
      ...parser.push(': next'),
    ];
    assert.deepEqual(events, [
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
  });

  it('joins data lines, keeps spaces after the first, and drops an unfinished event at the end', () => {
    const parser = new SseParser();
    const events = parser.push('data:one\ndata:  two\n\nevent: error\ndata: {"status":502}');
    assert.deepEqual(events, [{ event: 'message', data: 'one\n two' }]);
    assert.deepEqual(parser.end(), []);
  });

  it('does not dispatch an event without data', () => {
    assert.deepEqual(new SseParser().push('event: delta\n\n'), []);
  });
});
