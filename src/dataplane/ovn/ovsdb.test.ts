/**
 * The OVSDB client: the stream splitter and the decoding (pure), then transactions against a
 * real ovsdb-server holding OVN's northbound schema (skipped with the reason where Open vSwitch
 * is not installed): inserts referenced in the same transaction, atomicity when one operation
 * fails, a select with a condition on a map; and, against a fake server, its echo answered.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asArray, decode, decodeRow, JsonSplitter, map, named, OvsdbClient, OvsdbError, set } from './ovsdb.js';

test('the splitter cuts a stream of JSON texts where each ends, whatever the chunks, brackets in strings included', () => {
  const texts = ['{"id":1,"result":[{"rows":[]}]}', '{"method":"echo","params":["a]}\\"{"],"id":"e"}', '[1,[2,{"x":"}"}]]'];
  const whole = texts.join('\n');
  for (const size of [1, 2, 3, 7, whole.length]) {
    const s = new JsonSplitter();
    const out: string[] = [];
    for (let i = 0; i < whole.length; i += size) out.push(...s.push(whole.slice(i, i + size)));
    assert.deepEqual(out, texts, `chunks of ${size}`);
  }
});

test('decoding: sets (a one-element set may come bare), maps and UUIDs become plain values', () => {
  assert.deepEqual(decode(['set', ['a', 'b']]), ['a', 'b']);
  assert.deepEqual(decode(['map', [['k', 'v']]]), { k: 'v' });
  assert.equal(decode(['uuid', '1234']), '1234');
  assert.deepEqual(asArray(decode('solo')), ['solo']);
  assert.deepEqual(asArray(decode(['set', []])), []);
  assert.deepEqual(decodeRow({ name: 'x', ports: ['set', [['uuid', 'u1']]] }), { name: 'x', ports: ['u1'] });
  assert.deepEqual(
    map({ b: '2', a: '1' }),
    [
      'map',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    'keys in order, so equal maps encode the same',
  );
});

const SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';
const NO_OVSDB =
  existsSync(SCHEMA) && spawnSync('ovsdb-tool', ['--version']).status === 0 ? false : 'ovsdb-server and OVN are not installed (bash scripts/install-ovn.sh)';

describe('against a real ovsdb-server with the northbound schema', { skip: NO_OVSDB }, () => {
  let dir: string;
  let server: ChildProcess;
  let c: OvsdbClient;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nimbus-ovsdb-'));
    assert.equal(spawnSync('ovsdb-tool', ['create', join(dir, 'nb.db'), SCHEMA]).status, 0);
    const sock = join(dir, 'nb.sock');
    server = spawn('ovsdb-server', [join(dir, 'nb.db'), `--remote=punix:${sock}`, `--unixctl=${join(dir, 'ctl')}`, '--no-chdir'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
    c = await OvsdbClient.connect(`unix:${sock}`);
  });
  after(() => {
    c?.close();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('a switch and its port, made in one transaction (the port referenced by its named uuid), are read back', async () => {
    await c.transact('OVN_Northbound', [
      { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p1', addresses: set(['0a:00:00:00:00:01 10.0.0.5']) }, 'uuid-name': 'p' },
      { op: 'insert', table: 'Logical_Switch', row: { name: 's1', ports: set([named('p')]), external_ids: map({ 'nimbus-owner': 'tx' }) } },
    ]);
    const [sw] = await c.select('OVN_Northbound', 'Logical_Switch', ['name', 'ports'], [['external_ids', 'includes', map({ 'nimbus-owner': 'tx' })]]);
    assert.equal(sw.name, 's1');
    const ports = await c.select('OVN_Northbound', 'Logical_Switch_Port', ['name', 'addresses']);
    assert.deepEqual(
      ports.map((p) => [p.name, asArray(p.addresses)]),
      [['p1', ['0a:00:00:00:00:01 10.0.0.5']]],
    );
    assert.deepEqual(asArray(sw.ports), [ports[0]._uuid]);
  });

  test('a transaction one of whose operations fails applies nothing, and says which operation failed', async () => {
    const before = await c.select('OVN_Northbound', 'Logical_Router', ['name']);
    await assert.rejects(
      c.transact('OVN_Northbound', [
        { op: 'insert', table: 'Logical_Router', row: { name: 'r1' } },
        { op: 'insert', table: 'Logical_Router', row: { name: 'r2', no_such_column: 'x' } as never },
      ]),
      (e: unknown) => e instanceof OvsdbError && e.op === 1 && /operation 1 \(insert Logical_Router\)/.test(e.message),
    );
    assert.deepEqual(await c.select('OVN_Northbound', 'Logical_Router', ['name']), before);
  });

  test('a port no parent refers to is collected by OVSDB (why a plan makes a port with its switch, or mutates the switch)', async () => {
    await c.transact('OVN_Northbound', [{ op: 'insert', table: 'Logical_Switch_Port', row: { name: 'orphan' } }]);
    const ports = await c.select('OVN_Northbound', 'Logical_Switch_Port', ['name'], [['name', '==', 'orphan']]);
    assert.deepEqual(ports, []);
  });
});

test("the server's echo (its inactivity probe) is answered with its own params, and calls go on after it", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-ovsdb-echo-'));
  const sock = join(dir, 's');
  const replies: unknown[] = [];
  const fake = createServer((s) => {
    const split = new JsonSplitter();
    s.setEncoding('utf8');
    s.write(JSON.stringify({ method: 'echo', params: ['probe-1'], id: 'echo' }));
    s.on('data', (d: string) => {
      for (const text of split.push(d)) {
        const msg = JSON.parse(text);
        if (msg.id === 'echo') replies.push(msg);
        else s.write(JSON.stringify({ id: msg.id, result: [{ rows: [{ name: 'after-echo' }] }], error: null }));
      }
    });
  });
  await new Promise<void>((r) => fake.listen(sock, r));
  const c = await OvsdbClient.connect(`unix:${sock}`);
  try {
    const rows = await c.select('db', 'T', ['name']);
    assert.deepEqual(rows, [{ name: 'after-echo' }]);
    for (let i = 0; i < 100 && replies.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(replies, [{ id: 'echo', result: ['probe-1'], error: null }]);
  } finally {
    c.close();
    fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
