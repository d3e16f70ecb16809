/**
 * The store: SQLite through better-sqlite3, WAL, numbered migrations, one transaction per
 * write. Each resource is a JSON document in one table; the columns beside it exist for the
 * lookups and uniqueness rules the services need (names per project and kind, children of a
 * parent, a server's private IP per subnet).
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kind } from '../core/ids.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE resources (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     project_id TEXT NOT NULL,
     -- the name while the resource is live; NULL once it is kept only as a record (a deleted peering)
     name_key TEXT,
     parent_id TEXT,
     seq INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE UNIQUE INDEX resources_name ON resources(kind, project_id, name_key);
   CREATE INDEX resources_parent ON resources(kind, parent_id);
   CREATE INDEX resources_project ON resources(kind, project_id, seq);
   CREATE UNIQUE INDEX servers_ip ON resources(parent_id, json_extract(body, '$.privateIp')) WHERE kind = 'server';`,
  // Load balancers hold an address of their subnet too: one index over both kinds.
  `DROP INDEX servers_ip;
   CREATE UNIQUE INDEX subnet_addresses ON resources(parent_id, coalesce(json_extract(body, '$.privateIp'), json_extract(body, '$.vip')))
     WHERE kind IN ('server', 'loadBalancer');`,
  // Tags beyond the name (the AWS endpoint's CreateTags): they go with their resource.
  `CREATE TABLE tags (
     resource_id TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (resource_id, key)
   );`,
  // A NAT gateway holds an address of its subnet as well (its ENI's).
  `DROP INDEX subnet_addresses;
   CREATE UNIQUE INDEX subnet_addresses ON resources(parent_id, coalesce(json_extract(body, '$.privateIp'), json_extract(body, '$.vip')))
     WHERE kind IN ('server', 'loadBalancer', 'natGateway');`,
  // Network ACLs: every VPC made before them gets its default ACL (everything allowed, as the kernel did).
  `WITH a AS MATERIALIZED (SELECT id AS vid, 'acl-' || lower(hex(randomblob(8))) AS aid FROM resources WHERE kind = 'vpc')
   INSERT INTO resources (id, kind, project_id, name_key, parent_id, seq, body)
   SELECT a.aid, 'networkAcl', v.project_id, json_extract(v.body, '$.name') || '-default-acl', v.id, v.seq,
     json_object('id', a.aid, 'name', json_extract(v.body, '$.name') || '-default-acl', 'projectId', v.project_id, 'vpcId', v.id,
       'isDefault', json('true'), 'createdAt', json_extract(v.body, '$.createdAt'), 'rules', json(
         '[{"number":100,"direction":"ingress","action":"allow","protocol":"all","portRange":null,"cidr":"0.0.0.0/0"},' ||
         '{"number":100,"direction":"egress","action":"allow","protocol":"all","portRange":null,"cidr":"0.0.0.0/0"}]'))
   FROM resources v JOIN a ON a.vid = v.id
   WHERE v.kind = 'vpc';`,
];

export interface Row {
  id: string;
  kind: Kind;
  project_id: string;
  name_key: string | null;
  parent_id: string | null;
  seq: number;
  body: string;
}

/** The database file plus the prepared statements the repository layer shares. */
export class Store {
  readonly db: Database.Database;
  private seq = 0;
  private readonly stmts;

  constructor(file: string) {
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // SQLite gives its -wal and -shm files the database's mode: 0600 before they exist, and again for older ones.
      closeSync(openSync(file, 'a', 0o600));
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // What is deleted or replaced (a secret sealed anew, a revoked token) is overwritten, not left in free pages.
    this.db.pragma('secure_delete = ON');
    this.migrate();
    this.stmts = {
      get: this.db.prepare<[string], Row>('SELECT * FROM resources WHERE id = ?'),
      byName: this.db.prepare<[string, string, string], Row>('SELECT * FROM resources WHERE kind = ? AND project_id = ? AND name_key = ?'),
      byKind: this.db.prepare<[string], Row>('SELECT * FROM resources WHERE kind = ? ORDER BY seq'),
      byProject: this.db.prepare<[string, string], Row>('SELECT * FROM resources WHERE kind = ? AND project_id = ? ORDER BY seq'),
      byParent: this.db.prepare<[string, string], Row>('SELECT * FROM resources WHERE kind = ? AND parent_id = ? ORDER BY seq'),
      insert: this.db.prepare(
        'INSERT INTO resources (id, kind, project_id, name_key, parent_id, seq, body) VALUES (@id, @kind, @project_id, @name_key, @parent_id, @seq, @body)',
      ),
      update: this.db.prepare('UPDATE resources SET name_key = @name_key, body = @body WHERE id = @id'),
      delete: this.db.prepare<[string]>('DELETE FROM resources WHERE id = ?'),
      ipTaken: this.db.prepare<[string, string], { id: string }>(
        "SELECT id FROM resources WHERE kind IN ('server', 'loadBalancer', 'natGateway') AND parent_id = ? AND coalesce(json_extract(body, '$.privateIp'), json_extract(body, '$.vip')) = ?",
      ),
      addresses: this.db.prepare<[string], { ip: string }>(
        "SELECT coalesce(json_extract(body, '$.privateIp'), json_extract(body, '$.vip')) AS ip FROM resources WHERE kind IN ('server', 'loadBalancer', 'natGateway') AND parent_id = ?",
      ),
      tags: this.db.prepare<[string], { key: string; value: string }>('SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key'),
      setTag: this.db.prepare<[string, string, string]>(
        'INSERT INTO tags (resource_id, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value',
      ),
      removeTag: this.db.prepare<[string, string]>('DELETE FROM tags WHERE resource_id = ? AND key = ?'),
      maxSeq: this.db.prepare<[], { m: number | null }>('SELECT MAX(seq) AS m FROM resources'),
    };
    this.seq = this.stmts.maxSeq.get()?.m ?? 0;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Runs `fn` in one transaction: every write it makes lands, or none does. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Whether a transaction is open (a use case running inside another one's). */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  get<T>(id: string, kind?: Kind): T | undefined {
    const row = this.stmts.get.get(id);
    if (!row || (kind && row.kind !== kind)) return undefined;
    return JSON.parse(row.body) as T;
  }

  byName<T>(kind: Kind, projectId: string, name: string): T | undefined {
    const row = this.stmts.byName.get(kind, projectId, name);
    return row ? (JSON.parse(row.body) as T) : undefined;
  }

  /**
   * The stored JSON of each matching document, unparsed: a list endpoint whose view is the
   * document itself sends them as they are (parsing and serializing 10,000 costs more than the
   * query).
   */
  listBodies(kind: Kind, filter: { projectId?: string; parentId?: string } = {}): string[] {
    const out: string[] = [];
    for (const r of this.rows(kind, filter)) out.push(r.body);
    return out;
  }

  private rows(kind: Kind, filter: { projectId?: string; parentId?: string }): Row[] {
    const rows = filter.parentId
      ? this.stmts.byParent.all(kind, filter.parentId)
      : filter.projectId
        ? this.stmts.byProject.all(kind, filter.projectId)
        : this.stmts.byKind.all(kind);
    // The project query filters already; a parent's children are checked against the project.
    return filter.parentId && filter.projectId ? rows.filter((r) => r.project_id === filter.projectId) : rows;
  }

  list<T>(kind: Kind, filter: { projectId?: string; parentId?: string } = {}): T[] {
    const out: T[] = [];
    for (const r of this.rows(kind, filter)) out.push(JSON.parse(r.body) as T);
    return out;
  }

  insert(kind: Kind, doc: { id: string; name: string; projectId?: string }, parentId: string | null = null): void {
    this.stmts.insert.run({
      id: doc.id,
      kind,
      project_id: doc.projectId ?? doc.id,
      name_key: doc.name,
      parent_id: parentId,
      seq: ++this.seq,
      body: JSON.stringify(doc),
    });
  }

  /** Replaces a document; `live: false` keeps it only as a record whose name may be reused. */
  update(doc: { id: string; name: string }, live = true): void {
    this.stmts.update.run({ id: doc.id, name_key: live ? doc.name : null, body: JSON.stringify(doc) });
  }

  delete(id: string): void {
    this.stmts.delete.run(id);
  }

  /** A resource's tags other than its name, by key. */
  tags(resourceId: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.stmts.tags.all(resourceId)) out[r.key] = r.value;
    return out;
  }

  /** Sets (`value` a string) or removes (`value` null) one tag of a stored resource. */
  setTag(resourceId: string, key: string, value: string | null): void {
    if (value === null) this.stmts.removeTag.run(resourceId, key);
    else this.stmts.setTag.run(resourceId, key, value);
  }

  /** Whether a server or a load balancer of the subnet holds `ip`. */
  addressTaken(subnetId: string, ip: string): boolean {
    return this.stmts.ipTaken.get(subnetId, ip) !== undefined;
  }

  /** The addresses servers and load balancers hold in a subnet. */
  addressesIn(subnetId: string): Set<string> {
    return new Set(this.stmts.addresses.all(subnetId).map((r) => r.ip));
  }

  /** The sequence number the next inserted resource will get. */
  nextSeq(): number {
    return this.seq + 1;
  }

  /** Moves the write-ahead log into the database and empties it (what it held is then gone from disk). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.db.close();
  }
}
