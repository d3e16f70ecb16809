/**
 * A small OVSDB client (RFC 7047): JSON-RPC over a Unix socket or TCP, for OVN's northbound and
 * southbound databases and a chassis's Open_vSwitch database. No maintained npm client exists
 * (docs/dependencies.md); this one does what Nimbus needs and no more:
 *
 * - `transact` of several operations, atomic; an error in any of them is thrown with the
 *   operation's index, and nothing of the transaction is applied;
 * - `select` of the rows a condition names (the columns asked for);
 * - an answer to the server's `echo`, or its inactivity probe disconnects the client.
 *
 * Values go out and come back in OVSDB's encoding (`["set",[…]]`, `["map",[…]]`,
 * `["uuid","…"]`); `decode` turns a row into plain values: a set into an array (a one-element
 * set may come as its bare atom), a map into a Record, a UUID into its string.
 * Integers arrive as JSON numbers: the ones Nimbus reads (nb_cfg, counts) stay far below 2^53.
 */
import { connect, type Socket } from 'node:net';

export type Atom = string | number | boolean | ['uuid', string] | ['named-uuid', string];
export type Value = Atom | ['set', Atom[]] | ['map', [Atom, Atom][]];
export type Row = Record<string, Value>;
export type Condition = [string, '==' | '!=' | 'includes' | 'excludes' | '<' | '<=' | '>' | '>=', Value];

export type Operation =
  | { op: 'insert'; table: string; row: Row; 'uuid-name'?: string }
  | { op: 'select'; table: string; where: Condition[]; columns?: string[] }
  | { op: 'update'; table: string; where: Condition[]; row: Row }
  | { op: 'mutate'; table: string; where: Condition[]; mutations: [string, string, Value][] }
  | { op: 'delete'; table: string; where: Condition[] }
  | { op: 'wait'; table: string; where: Condition[]; columns: string[]; until: '==' | '!='; rows: Row[]; timeout?: number }
  | { op: 'comment'; comment: string };

export interface OpResult {
  uuid?: ['uuid', string];
  rows?: Row[];
  count?: number;
  error?: string;
  details?: string;
}

export class OvsdbError extends Error {
  constructor(
    message: string,
    /** The index of the operation that failed, when one did. */
    readonly op?: number,
  ) {
    super(message);
  }
}

/** Where a database listens: `unix:/path` or `tcp:IP:PORT`. */
function dial(remote: string): Socket {
  if (remote.startsWith('unix:')) return connect({ path: remote.slice(5) });
  const m = /^tcp:([^:]+):(\d+)$/.exec(remote);
  if (!m) throw new OvsdbError(`${remote}: a database remote is unix:PATH or tcp:IP:PORT`);
  return connect({ host: m[1], port: Number(m[2]) });
}

/**
 * Splits a stream of concatenated JSON texts (OVSDB frames none) into whole texts: it counts
 * brackets outside strings, and a text ends where the count returns to zero.
 */
export class JsonSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buf.slice(start, i + 1).trim());
          start = i + 1;
        }
      }
    }
    this.buf = this.buf.slice(start);
    this.scanned = this.buf.length;
    if (this.depth === 0) {
      this.buf = this.buf.trimStart();
      this.scanned = this.buf.length;
    }
    return out;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class OvsdbClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly remote: string,
  ) {
    const splitter = new JsonSplitter();
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      for (const text of splitter.push(d)) this.onMessage(JSON.parse(text));
    });
    const fail = (err: Error) => {
      this.closed ??= err;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(this.closed);
      }
      this.pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new OvsdbError(`${remote}: the connection closed`)));
  }

  /** Connects to `remote` (unix:PATH or tcp:IP:PORT). */
  static connect(remote: string, timeoutMs = 5_000): Promise<OvsdbClient> {
    return new Promise((resolve, reject) => {
      let socket: Socket;
      try {
        socket = dial(remote);
      } catch (err) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => socket.destroy(new OvsdbError(`${remote}: no connection within ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (err) => (clearTimeout(timer), reject(new OvsdbError(`${remote}: ${err.message}`))));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new OvsdbClient(socket, remote));
      });
    });
  }

  private onMessage(msg: { id: unknown; method?: string; params?: unknown; result?: unknown; error?: unknown }): void {
    // The server's inactivity probe: answered with its own params.
    if (msg.method === 'echo') {
      this.socket.write(JSON.stringify({ id: msg.id, result: msg.params, error: null }));
      return;
    }
    if (msg.method) return; // notifications (update, locked): this client asks for none
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    if (msg.error) p.reject(new OvsdbError(`${this.remote}: ${typeof msg.error === 'string' ? msg.error : JSON.stringify(msg.error)}`));
    else p.resolve(msg.result);
  }

  /** One JSON-RPC call and its result. */
  call(method: string, params: unknown[], timeoutMs = 10_000): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OvsdbError(`${this.remote}: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Operations on `db` in one atomic transaction; their results in order. An operation that
   * fails throws (with its index), and the database holds nothing of the transaction.
   */
  async transact(db: string, ops: Operation[], timeoutMs?: number): Promise<OpResult[]> {
    const results = (await this.call('transact', [db, ...ops], timeoutMs)) as (OpResult | null)[];
    const failed = results.findIndex((r) => r?.error);
    if (failed >= 0) {
      const r = results[failed]!;
      const what =
        failed < ops.length
          ? `operation ${failed} (${ops[failed].op}${'table' in ops[failed] ? ` ${(ops[failed] as { table: string }).table}` : ''})`
          : 'the transaction';
      throw new OvsdbError(`${db}: ${what} failed: ${r.error}${r.details ? `: ${r.details}` : ''}`, failed < ops.length ? failed : undefined);
    }
    return results as OpResult[];
  }

  /** The rows of `table` matching `where` (every row without it), decoded. */
  async select(db: string, table: string, columns: string[], where: Condition[] = []): Promise<Record<string, unknown>[]> {
    const [r] = await this.transact(db, [{ op: 'select', table, where, columns: ['_uuid', ...columns] }]);
    return (r.rows ?? []).map(decodeRow);
  }

  close(): void {
    this.closed ??= new OvsdbError(`${this.remote}: closed`);
    this.socket.destroy();
  }
}

/** One value in plain form: an array for a set, a Record for a map, a string for a UUID. */
export function decode(v: Value): unknown {
  if (Array.isArray(v)) {
    if (v[0] === 'set') return (v[1] as Atom[]).map((a) => decode(a));
    if (v[0] === 'map') return Object.fromEntries((v[1] as [Atom, Atom][]).map(([k, x]) => [decode(k), decode(x)]));
    if (v[0] === 'uuid' || v[0] === 'named-uuid') return v[1];
  }
  return v;
}

export function decodeRow(row: Row): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, decode(v)]));
}

/** A set as a plain array: a one-element set may come as its bare atom, an empty one as an empty set. */
export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** Encodings going out. */
export const set = (atoms: Atom[]): Value => ['set', atoms];
export const map = (m: Record<string, string>): Value => ['map', Object.entries(m).sort(([a], [b]) => a.localeCompare(b))];
export const uuid = (u: string): ['uuid', string] => ['uuid', u];
export const named = (n: string): ['named-uuid', string] => ['named-uuid', n];
