import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../src/agent/llm/breaker.js';
import { UpstreamError } from '../src/agent/llm/errors.js';

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
  return {
    breaker,
    events,
    ok,
    boom,
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
});
