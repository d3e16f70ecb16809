/**
 * How the CLI prints: a table a person reads at a glance (default), or the resource as
 * JSON or YAML for scripts (`-o json|yaml`). Failures go to stderr as `CODE: message`.
 */
import { ApiError } from '../client/client.js';
import { Names, type RefKind } from './names.js';

export type Format = 'table' | 'json' | 'yaml';

export interface Column<T> {
  header: string;
  value: (row: T, names: Names) => string | number | boolean | null | undefined;
  /** The kinds whose names the value shows (fetched before the table is printed). */
  refs?: RefKind[];
}

const NO_NAMES = new Names(null);

export function table<T>(rows: T[], columns: Column<T>[], names: Names = NO_NAMES): string {
  const cells = rows.map((r) => columns.map((c) => String(c.value(r, names) ?? '-')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** Prints a resource or a list: as a table, or as JSON or YAML (the YAML library is loaded only then). */
export async function print<T>(data: T | T[], format: Format, columns: Column<T>[], names: Names = NO_NAMES): Promise<void> {
  if (format === 'json') process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else if (format === 'yaml') process.stdout.write((await import('yaml')).stringify(data));
  else {
    await names.load(columns.flatMap((c) => c.refs ?? []));
    process.stdout.write(table(Array.isArray(data) ? data : [data], columns, names));
  }
}

/** Writes `CODE: message` to stderr and sets a failing exit code. */
export function fail(err: unknown): void {
  if (err instanceof ApiError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else process.stderr.write(`Error: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
