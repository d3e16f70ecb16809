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

test('a stale pid file does not make the next daemon kill a stranger; a true orphan is ended', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Supervisor } = await import('./supervisor.js');
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-pids-'));
  const stranger = spawn('sleep', ['30']);
  const orphan = spawn('sleep', ['30'], { detached: true });
  try {
    writeFileSync(join(dir, 'ecs-stale'), JSON.stringify({ ...identityOf(stranger.pid!)!, startTime: '1' }));
    writeFileSync(join(dir, 'ecs-orphan'), JSON.stringify(identityOf(orphan.pid!)));
    writeFileSync(join(dir, 'ecs-plain'), String(stranger.pid));
    const exited = new Promise((r) => orphan.once('exit', r));
    assert.equal(new Supervisor(dir).reapOrphans(), 1);
    await exited;
    assert.notEqual(identityOf(stranger.pid!), null, 'the stranger lives');
  } finally {
    stranger.kill('SIGKILL');
    orphan.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
