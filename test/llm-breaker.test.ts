import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, countsAsFailure } from '../src/agent/llm/breaker.js';
import { UpstreamError, type UpstreamFailure } from '../src/agent/llm/errors.js';

function setup(failures = 3, cooldownMs = 30000) {
  let now = 1_000_000;
  const events: string[] = [];
  const breaker = new CircuitBreaker({
    service: 'ollama',
    failures,
    cooldownMs,
    now: () => now,
    onOpen: (count) => events.push(`open after ${count}`),
    onClose: () => events.push('closed'),
  });
  let calls = 0;
  const ok = () => breaker.run(async () => ++calls);
  const boom = () =>
    breaker.run(async () => {
      calls++;
      throw new UpstreamError('http', 'ollama', 'HTTP 500');
    });
  /** A call that ends when told: `settle.ok(value)` or `settle.fail(error)`. */
  const pending = () => {
    let ok: (value: number) => void = () => {};
    let fail: (error: unknown) => void = () => {};
    const promise = breaker.run(
      () =>
        new Promise<number>((resolve, reject) => {
          calls++;
          ok = resolve;
          fail = reject;
        }),
    );
    // Observed by the test later; never an unhandled rejection meanwhile.
    promise.catch(() => {});
    return { promise, ok: (value: number) => ok(value), fail: (error: unknown) => fail(error) };
  };
  return {
    breaker,
    events,
    ok,
    boom,
    pending,
    calls: () => calls,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const isHttp = (error: unknown) => error instanceof UpstreamError && error.failure === 'http';
const isOpen = (error: unknown) =>
  error instanceof UpstreamError && error.failure === 'circuit_open';

describe('circuit breaker', () => {
  it('opens after the configured consecutive failures and then fails fast without calling', async () => {
    const t = setup(3);
    for (let i = 0; i < 3; i++) await assert.rejects(t.boom(), isHttp);
    assert.equal(t.breaker.state, 'open');
    assert.deepEqual(t.events, ['open after 3']);
    await assert.rejects(t.ok(), (error: unknown) => {
      assert.ok(isOpen(error));
      assert.match(
        (error as Error).message,
        /^ollama: not called after 3 consecutive failures; next try in 30 s$/,
      );
      assert.equal((error as UpstreamError).retryAfterSeconds, 30);
      return true;
    });
    assert.equal(t.calls(), 3, 'the open circuit did not call');
  });

  it('counts consecutive failures only: a success starts the count again', async () => {
    const t = setup(3);
    await assert.rejects(t.boom());
    await assert.rejects(t.boom());
    await t.ok();
    await assert.rejects(t.boom());
    await assert.rejects(t.boom());
    assert.equal(t.breaker.state, 'closed');
    assert.equal(t.breaker.failures, 2);
  });

  it('lets one trial through after the cooldown, and closes on its success', async () => {
    const t = setup(2, 1000);
    await assert.rejects(t.boom());
    await assert.rejects(t.boom());
    t.advance(999);
    await assert.rejects(t.ok(), isOpen);
    t.advance(1);
    assert.equal(t.breaker.state, 'half_open');
    assert.equal(await t.ok(), 3);
    assert.equal(t.breaker.state, 'closed');
    assert.equal(t.breaker.failures, 0);
    assert.deepEqual(t.events, ['open after 2', 'closed']);
  });

  it('opens again for a whole cooldown when the trial fails', async () => {
    const t = setup(2, 1000);
    await assert.rejects(t.boom());
    await assert.rejects(t.boom());
    t.advance(1000);
    await assert.rejects(t.boom(), isHttp);
    assert.equal(t.breaker.state, 'open');
    t.advance(999);
    await assert.rejects(t.ok(), isOpen);
    t.advance(1);
    await t.ok();
    assert.deepEqual(t.events, ['open after 2', 'open after 3', 'closed']);
  });

  it('fails fast for other callers while the trial is running', async () => {
    const t = setup(1, 1000);
    await assert.rejects(t.boom());
    t.advance(1000);
    let finish: (value: number) => void = () => {};
    const trial = t.breaker.run(() => new Promise<number>((resolve) => (finish = resolve)));
    await assert.rejects(t.ok(), isOpen);
    finish(42);
    assert.equal(await trial, 42);
    assert.equal(t.breaker.state, 'closed');
  });

  it('never opens with 0 failures configured', async () => {
    const t = setup(0);
    for (let i = 0; i < 20; i++) await assert.rejects(t.boom(), isHttp);
    assert.equal(t.breaker.state, 'closed');
    assert.deepEqual(t.events, []);
  });

  describe('calls that overlap', () => {
    const http500 = () => new UpstreamError('http', 'ollama', 'HTTP 500', { status: 500 });

    it('does not close an open circuit when a call started before it opened succeeds', async () => {
      const t = setup(2, 1000);
      const slow = t.pending();
      await assert.rejects(t.boom());
      await assert.rejects(t.boom());
      assert.equal(t.breaker.state, 'open');
      slow.ok(7);
      assert.equal(await slow.promise, 7, 'the late caller still gets its result');
      assert.equal(t.breaker.state, 'open', 'only a trial closes the circuit');
      assert.equal(t.breaker.failures, 2);
      await assert.rejects(t.ok(), isOpen);
      assert.deepEqual(t.events, ['open after 2']);
    });

    it('does not count failures of calls started before the circuit opened', async () => {
      const t = setup(2, 1000);
      const late = [t.pending(), t.pending(), t.pending()];
      await assert.rejects(t.boom());
      await assert.rejects(t.boom());
      for (const call of late) call.fail(http500());
      for (const call of late) await assert.rejects(call.promise, isHttp);
      assert.equal(t.breaker.failures, 2);
      assert.deepEqual(t.events, ['open after 2'], 'opened once, not again by late failures');
      await assert.rejects(t.ok(), (error: unknown) => {
        assert.match((error as Error).message, /not called after 2 consecutive failures/);
        return true;
      });
    });

    it('lets only the trial decide while it runs', async () => {
      const t = setup(1, 1000);
      const old = t.pending();
      await assert.rejects(t.boom());
      t.advance(1000);
      const trial = t.pending();
      old.ok(1);
      await old.promise;
      assert.equal(t.breaker.state, 'half_open', 'the old success did not close it');
      await assert.rejects(t.ok(), isOpen, 'the trial is still the only call');
      trial.fail(http500());
      await assert.rejects(trial.promise, isHttp);
      assert.equal(t.breaker.state, 'open');
      assert.deepEqual(t.events, ['open after 1', 'open after 2']);
    });

    it('does not hold an old failure against a circuit that closed since', async () => {
      const t = setup(2, 1000);
      const old = t.pending();
      await assert.rejects(t.boom());
      await assert.rejects(t.boom());
      t.advance(1000);
      await t.ok();
      assert.equal(t.breaker.state, 'closed');
      old.fail(http500());
      await assert.rejects(old.promise, isHttp);
      assert.equal(t.breaker.failures, 0);
      await assert.rejects(t.boom());
      assert.equal(t.breaker.state, 'closed', 'one new failure is not two');
    });

    it('counts failures of calls started in the same closed period', async () => {
      const t = setup(2, 1000);
      const [a, b] = [t.pending(), t.pending()];
      a.fail(http500());
      b.fail(http500());
      await assert.rejects(a.promise);
      await assert.rejects(b.promise);
      assert.equal(t.breaker.state, 'open');
    });
  });

  describe('which failures count', () => {
    const error = (failure: UpstreamFailure, status?: number) =>
      new UpstreamError(failure, 'ollama', 'x', { status });

    it('counts what says the server is unwell for everyone, not what one request caused', () => {
      for (const status of [500, 502, 503, 504, 429, 408, 401, 403, 404])
        assert.equal(countsAsFailure(error('http', status)), true, String(status));
      for (const status of [400, 413, 422, 409])
        assert.equal(countsAsFailure(error('http', status)), false, String(status));
      for (const failure of ['timeout', 'connection', 'malformed', 'empty', 'too_large'] as const)
        assert.equal(countsAsFailure(error(failure)), true, failure);
      assert.equal(countsAsFailure(error('circuit_open')), false);
      assert.equal(countsAsFailure(new Error('a bug')), false);
    });

    it('neither counts nor resets on a request-specific failure', async () => {
      const t = setup(2, 1000);
      const bad = (status: number) =>
        t.breaker.run(async () => {
          throw error('http', status);
        });
      await assert.rejects(t.boom());
      for (const status of [400, 413, 422]) await assert.rejects(bad(status));
      assert.equal(t.breaker.failures, 1);
      assert.equal(t.breaker.state, 'closed');
      await assert.rejects(t.boom());
      assert.equal(t.breaker.state, 'open');
      t.advance(1000);
      await assert.rejects(bad(400));
      assert.equal(t.breaker.state, 'half_open', 'a trial refused for its request decides nothing');
      await t.ok();
      assert.equal(t.breaker.state, 'closed');
    });
  });
});
