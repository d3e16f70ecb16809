/**
 * wrk, bounded in time, and its report parsed: requests per second, p50 and p99 latency.
 */
import { spawnSync } from 'node:child_process';

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

export function wrk(url: string, seconds: number, headers: string[] = [], connections = 64): WrkResult {
  const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s', ...headers.flatMap((h) => ['-H', h]), url];
  const r = spawnSync('wrk', args, { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
  const out = r.stdout ?? '';
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1];
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1];
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    rps,
    p50ms: p50 ? ms(p50) : NaN,
    p99ms: p99 ? ms(p99) : NaN,
    errors: non2xx + (errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}
