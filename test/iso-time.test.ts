import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from '../src/iso-time.js';

describe('isoTime', () => {
  it('writes what toISOString writes, within a second, across seconds and at the edges', () => {
    const times = [
      0,
      1,
      999,
      1000,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      Date.UTC(2028, 1, 29, 12, 0, 0, 5),
      253402300799999,
      253402300800000,
      -1,
      -62198755200000,
      8.64e15,
    ];
    // Runs of milliseconds inside one second and over the next, which reuse the second's text.
    const start = Date.UTC(2026, 10, 30, 17, 4, 58, 990);
    for (let ms = start; ms < start + 1200; ms += 7) times.push(ms);
    for (const ms of times) {
      const date = new Date(ms);
      assert.equal(isoTime(date), date.toISOString(), `at ${ms}`);
    }
  });

  it('refuses an invalid date as toISOString does', () => {
    assert.throws(() => isoTime(new Date(Number.NaN)), RangeError);
  });

  it('writes the present by default', () => {
    const before = Date.now();
    const written = Date.parse(isoTime());
    assert.ok(written >= before && written <= Date.now(), `${written} not within the call`);
  });
});
