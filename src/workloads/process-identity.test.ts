import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { identityOf, sameProcess } from './process-identity.js';

test('a pid names the same process only while its start time is the recorded one', async () => {
  const child = spawn('sleep', ['30']);
  try {
    const id = identityOf(child.pid!)!;
    assert.match(id.startTime, /^\d+$/);
    assert.match(id.cmdline, /sleep 30/);
    assert.equal(sameProcess(id), true);
    assert.equal(sameProcess({ ...id, startTime: String(Number(id.startTime) - 1) }), false, 'a stranger now holding the pid');
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  assert.equal(identityOf(child.pid!), null);
});

const spec = (argv: string[], outputFile: string) => ({ argv, outputFile });

test('a stale pid file does not make the next daemon kill a stranger; an orphan nobody asks for is ended', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Supervisor } = await import('./supervisor.js');
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-pids-'));
  const stranger = spawn('sleep', ['30']);
  const orphan = spawn('sleep', ['30'], { detached: true });
  try {
    const out = join(dir, 'out.log');
    writeFileSync(
      join(dir, 'ecs-stale'),
      JSON.stringify({ ...identityOf(stranger.pid!)!, startTime: '1', key: 'ecs-stale', spec: spec(['sleep', '30'], out) }),
    );
    writeFileSync(join(dir, 'ecs-orphan'), JSON.stringify({ ...identityOf(orphan.pid!), key: 'ecs-orphan', spec: spec(['sleep', '30'], out) }));
    writeFileSync(join(dir, 'ecs-plain'), String(stranger.pid));
    const exited = new Promise((r) => orphan.once('exit', r));
    const sv = new Supervisor(dir);
    assert.deepEqual(sv.orphanKeys(), ['ecs-orphan'], 'only the process that is still who its file says');
    assert.equal(sv.reapUnclaimed(), 1);
    await exited;
    assert.notEqual(identityOf(stranger.pid!), null, 'the stranger lives');
    sv.stopAll();
  } finally {
    stranger.kill('SIGKILL');
    orphan.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the next supervisor adopts a process it asks for unchanged, restarts one asked for otherwise, and watches the adopted one', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Supervisor } = await import('./supervisor.js');
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-pids-'));
  const out = join(dir, 'out.log');
  const first = new Supervisor(dir);
  try {
    first.ensure('ecs-same', spec(['sleep', '30'], out));
    first.ensure('ecs-changed', spec(['sleep', '31'], out));
    const same = first.pid('ecs-same')!;
    const changed = first.pid('ecs-changed')!;
    // The daemon dies without stopping anything: the next one reads the pid files.
    const second = new Supervisor(dir);
    const adopted: string[] = [];
    const exits: string[] = [];
    second.on('adopt', (key: string) => adopted.push(key));
    second.on('exit', (key: string) => exits.push(key));
    second.ensure('ecs-same', spec(['sleep', '30'], out));
    second.ensure('ecs-changed', spec(['sleep', '32'], out));
    assert.deepEqual(adopted, ['ecs-same']);
    assert.equal(second.pid('ecs-same'), same, 'the same process, not a new one');
    assert.notEqual(second.pid('ecs-changed'), changed, 'a changed spec runs anew');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(identityOf(changed), null, 'and the old one is ended');
    // An adopted process that dies is noticed (by polling) and started again.
    process.kill(same, 'SIGKILL');
    for (let i = 0; i < 50 && second.pid('ecs-same') === same; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(exits, ['ecs-same']);
    for (let i = 0; i < 50 && second.pid('ecs-same') === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(second.pid('ecs-same'), 'running again');
    assert.notEqual(second.pid('ecs-same'), same);
    second.stopAll();
    first.stopAll();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
