/**
 * Whether another user can reach a file: every folder on its path must let others through,
 * and the file must let them read (and, for node itself, run) it. The daemon refuses to start
 * when node is out of the tenants' reach, rather than run them as root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unreadableByOthers } from './runtime.js';

test('names the first folder on the path that other users cannot pass, or the file they cannot read', () => {
  const base = mkdtempSync(join(tmpdir(), 'nimbus-reach-'));
  try {
    chmodSync(base, 0o755);
    const dir = join(base, 'closed');
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
    const file = join(dir, 'prog');
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(unreadableByOthers(file), dir);
    chmodSync(dir, 0o711);
    assert.equal(unreadableByOthers(file), null, 'a folder others may pass through, though not list');
    chmodSync(file, 0o644);
    assert.equal(unreadableByOthers(file), file, 'node must be runnable by others');
    assert.equal(unreadableByOthers(file, 0o004), null, 'a script need only be readable');
    chmodSync(file, 0o600);
    assert.equal(unreadableByOthers(file, 0o004), file);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
