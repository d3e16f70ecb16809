/**
 * The HTTP access-log line written straight into the log's chunk as bytes: the same JSON as
 * formatRecord (observe.ts) makes, without a string per request. The parts that do not change
 * (client and listener, pool, member) are Buffers made once; the method and the path are
 * copied from the request's own bytes; numbers are written digit by digit.
 */

/** Bytes of `s` (ASCII). */
export const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

const QUOTE = 34;
const BACKSLASH = 92;

/** Copies src[a, b) into buf at `at`, escaping '"' and '\\' (the only bytes of a request target JSON must escape); returns the end. */
export function putEscaped(buf: Buffer, at: number, src: Buffer, a: number, b: number): number {
  for (let i = a; i < b; i++) {
    const c = src[i];
    if (c === QUOTE || c === BACKSLASH) buf[at++] = BACKSLASH;
    buf[at++] = c;
  }
  return at;
}

/** Writes a non-negative integer in decimal; returns the end. */
export function putInt(buf: Buffer, at: number, n: number): number {
  if (n < 10) {
    buf[at] = 48 + n;
    return at + 1;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let i = at + digits;
  for (let x = n; i > at; x = Math.floor(x / 10)) buf[--i] = 48 + (x % 10);
  return at + digits;
}

/** Writes milliseconds rounded to the microsecond as JSON prints them (12, 0.309, 1.2); returns the end. */
export function putMillis(buf: Buffer, at: number, ms: number): number {
  const us = Math.round(ms * 1000);
  const whole = Math.floor(us / 1000);
  let frac = us - whole * 1000;
  at = putInt(buf, at, whole);
  if (frac === 0) return at;
  buf[at++] = 46; // '.'
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  for (let pad = digits - (frac >= 100 ? 3 : frac >= 10 ? 2 : 1); pad > 0; pad--) buf[at++] = 48;
  return putInt(buf, at, frac);
}

/** Copies a whole (small) Buffer; returns the end. A loop: Buffer#copy costs more than the copying for a few bytes. */
export function put(buf: Buffer, at: number, part: Buffer): number {
  const n = part.length;
  for (let i = 0; i < n; i++) buf[at + i] = part[i];
  return at + n;
}

/** Copies src[a, b) (a few bytes); returns the end. */
export function putSlice(buf: Buffer, at: number, src: Buffer, a: number, b: number): number {
  for (let i = a; i < b; i++) buf[at++] = src[i];
  return at;
}
