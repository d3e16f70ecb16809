/**
 * The `console` blocks of a Markdown document as runnable steps: each `$ command` line, the
 * output printed below it, and the block's tags (```` ```console linux ```` runs only on the
 * Linux data plane). Outputs are compared after masking what differs from run to run: ids,
 * times, durations, ports, MAC-derived addresses; and runs of spaces (column widths follow
 * the masked values).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { KINDS } from '../../src/core/ids.js';

export interface Step {
  command: string;
  expected: string;
  /** Where it is, for messages: `README.md:123`. */
  at: string;
}

export interface Block {
  tags: string[];
  steps: Step[];
}

export function consoleBlocks(file: string, label = file): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```console\b(.*)$/.exec(lines[i]);
    if (!open) continue;
    const block: Block = { tags: open[1].trim().split(/\s+/).filter(Boolean), steps: [] };
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) {
      if (lines[i].startsWith('$ ')) block.steps.push({ command: lines[i].slice(2), expected: '', at: `${label}:${i + 1}` });
      else if (block.steps.length > 0) block.steps[block.steps.length - 1].expected += `${lines[i]}\n`;
    }
    blocks.push(block);
  }
  return blocks;
}

/**
 * Writes outputs into the document: `outputs` maps a block's index (among all console blocks)
 * and a step's index to the output that replaces the step's expected lines. For maintainers
 * refreshing the README after a deliberate change (see test/docs/readme.test.ts).
 */
export function writeOutputs(file: string, outputs: Map<string, string>): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  let block = -1;
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    if (!/^```console\b/.test(lines[i])) continue;
    block++;
    let step = -1;
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) {
      if (!lines[i].startsWith('$ ')) continue;
      step++;
      out.push(lines[i]);
      const fresh = outputs.get(`${block}:${step}`);
      let j = i + 1;
      while (j < lines.length && !lines[j].startsWith('$ ') && !lines[j].startsWith('```')) j++;
      if (fresh === undefined) out.push(...lines.slice(i + 1, j));
      else if (fresh.trimEnd() !== '') out.push(...fresh.trimEnd().split('\n'));
      i = j - 1;
    }
    out.push(lines[i]);
  }
  writeFileSync(file, out.join('\n'));
}

/** Every kind's id (its prefix from core/ids.ts, so a new kind is masked too), and AWS's association ids. */
const ID = new RegExp(`\\b(${[...Object.values(KINDS), 'eipassoc'].sort((a, b) => b.length - a.length).join('|')})-[0-9a-f]{16}\\b`, 'g');

/** What is left of an output once what differs between runs is masked. */
export function mask(text: string): string {
  return (
    text
      .replace(/\r\n/g, '\n')
      .replace(ID, '$1-<id>')
      // A workload's loopback address: each installation draws from a range of its own.
      .replace(/\b127\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+\b/g, '<workload-ip>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      // A day (a certificate's expiry, a year from the day it was made).
      .replace(/\b\d{4}-\d\d-\d\d\b/g, '<date>')
      // A flow log record's capture window (flowlog tail).
      .replace(/\b\d\d:\d\d:\d\d-\d\d:\d\d:\d\d\b/g, '<window>')
      .replace(/^date: .*$/gim, 'date: <date>')
      .replace(/time[= ]\d+(\.\d+)? ?ms/g, 'time <ms>')
      .replace(/rtt min\/avg\/max\/mdev = \S+ ms/g, 'rtt <ms>')
      .replace(/fe80::[0-9a-f:]+\/64/g, 'fe80::<mac>/64')
      .replace(/@if\d+/g, '@if<n>')
      .replace(/(\d+\.\d+\.\d+\.\d+):\d{4,5}\b/g, '$1:<port>')
      // A public IP the daemon picked (`publicIp: true`): the lowest one free on this host.
      .replace(/\bpublic 127\.0\.1\.\d+/g, 'public <public-ip>')
      .replace(/\b\d+ steps in \d+ ms/g, '<n> steps in <n> ms')
      .replace(/(^|\s)\d+\.\d+(?=\s|$)/gm, '$1<ms>')
      // An access log's last column (MS) is a whole number when a request took a round millisecond count.
      .replace(/^(<time>\s.*\s)\d+$/gm, '$1<ms>')
      .replace(/[ \t]+/g, ' ')
      .replace(/ +\n/g, '\n')
      .trim()
  );
}

/**
 * Whether `actual` matches `expected` once both are masked. A line `...` in the expected
 * output stands for any number of lines.
 */
export function matches(expected: string, actual: string): boolean {
  const want = mask(expected).split('\n');
  const got = mask(actual).split('\n');
  const walk = (i: number, j: number): boolean => {
    if (i === want.length) return j === got.length;
    if (want[i] === '...') {
      for (let k = j; k <= got.length; k++) if (walk(i + 1, k)) return true;
      return false;
    }
    return j < got.length && want[i] === got[j] && walk(i + 1, j + 1);
  };
  return walk(0, 0);
}
