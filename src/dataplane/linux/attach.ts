/**
 * Commands with attached streams inside a namespace (`nimbus exec`, `nimbus ssh`). A terminal
 * is made with script(1) from util-linux (in every Debian), so no native module is needed: it
 * runs the command on a pseudo-terminal of the size asked for and relays it on its own stdio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AttachOptions } from '../driver.js';

/** A word for sh, quoted so that it stays one word whatever it holds. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export function attachIn(ns: string, argv: string[], opts: AttachOptions): ChildProcess {
  const env = { ...process.env, TERM: opts.term || 'xterm-256color' };
  if (!opts.tty) return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'pipe', env });
  const size = opts.rows && opts.cols ? `stty rows ${Math.trunc(opts.rows)} cols ${Math.trunc(opts.cols)} 2>/dev/null; ` : '';
  const line = `${size}exec ${argv.map(shellQuote).join(' ')}`;
  return spawn('ip', ['netns', 'exec', ns, 'script', '-qfec', line, '/dev/null'], { stdio: 'pipe', env: { ...env, SHELL: '/bin/sh' } });
}
