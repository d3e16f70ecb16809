/**
 * How the CLI prints: a table a person reads at a glance (default), or the resource as
 * JSON or YAML for scripts (`-o json|yaml`). Failures go to stderr as `CODE: message`.
 */
import YAML from 'yaml';
import { ApiError } from '../client/client.js';

export type Format = 'table' | 'json' | 'yaml';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r) ?? '-')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

export function print<T>(data: T | T[], format: Format, columns: Column<T>[]): void {
  if (format === 'json') process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else if (format === 'yaml') process.stdout.write(YAML.stringify(data));
  else process.stdout.write(table(Array.isArray(data) ? data : [data], columns));
}

/** Writes `CODE: message` to stderr and sets a failing exit code. */
export function fail(err: unknown): void {
  if (err instanceof ApiError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else process.stderr.write(`Error: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
