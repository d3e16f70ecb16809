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
  /** Left out of a table where no row has a value (a listener's certificates, on a table without TLS). */
  optional?: boolean;
}

const NO_NAMES = new Names(null);

export function table<T>(rows: T[], all: Column<T>[], names: Names = NO_NAMES): string {
  const columns = all.filter((c) => !c.optional || rows.some((r) => !['', null, undefined].includes(c.value(r, names) as string | null | undefined)));
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

/** Status fields a deleted resource no longer has as they were: what they read once it is gone. */
const GONE: Record<string, string> = { provisioningStatus: 'DELETED', state: 'deleted', status: 'deleted', operatingStatus: 'OFFLINE' };

/**
 * What a delete (or revoke) prints: `deleted vpc web (vpc-…)` for a person; for a script the
 * resource as it was, marked `deleted: true`, with its status fields saying so.
 */
export async function printDeleted(data: unknown, format: Format, kind: string, verb = 'deleted'): Promise<void> {
  const items = (Array.isArray(data) ? data : [data]) as Record<string, unknown>[];
  const marked = items.map((r) => {
    const out: Record<string, unknown> = { ...r };
    for (const [k, v] of Object.entries(GONE)) if (k in out) out[k] = v;
    return { ...out, [verb]: true };
  });
  const one = Array.isArray(data) ? marked : marked[0];
  if (format === 'json') process.stdout.write(JSON.stringify(one, null, 2) + '\n');
  else if (format === 'yaml') process.stdout.write((await import('yaml')).stringify(one));
  else for (const r of items) process.stdout.write(`${verb} ${kind} ${String(r.name ?? r.id)}${r.name && r.id ? ` (${String(r.id)})` : ''}\n`);
}

/** Writes `CODE: message` to stderr and sets a failing exit code. */
export function fail(err: unknown): void {
  if (err instanceof ApiError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else process.stderr.write(`Error: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
