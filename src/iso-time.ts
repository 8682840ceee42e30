/**
 * `date.toISOString()`, without its cost on every save and every message: the text of the
 * current second is kept and the milliseconds appended. toISOString took 0.6 µs in a loop here
 * and several µs on a save (next to 0.07 µs for this); the result is the same string.
 */
let second = Number.NaN;
let secondText = '';

/** The latest time toISOString writes with four year digits: 9999-12-31T23:59:59.999Z. */
const LAST_FOUR_DIGIT_MS = 253402300799999;

export function isoTime(date: Date = new Date()): string {
  const ms = date.getTime();
  // Before 1970 the arithmetic below still holds, but toISOString is kept for the odd years
  // (signed six-digit years, an invalid date's RangeError) rather than imitated.
  if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_MS)) return date.toISOString();
  const s = Math.floor(ms / 1000);
  if (s !== second) {
    // "YYYY-MM-DDTHH:MM:SS."
    secondText = new Date(s * 1000).toISOString().slice(0, 20);
    second = s;
  }
  const milli = ms - s * 1000;
  return `${secondText}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
