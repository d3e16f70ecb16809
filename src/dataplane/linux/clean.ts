/**
 * Removes every kernel object an installation owns: its namespaces (the kernel takes their
 * links with them, the public links' host ends too) and the processes still running in them and the host's table of its kernel
 * listeners' public IPs. Needs no daemon; the prefix comes from the data directory.
 */
import { listNamespaces } from './observe.js';
import { owned } from './names.js';
import { run } from './run.js';
import { removeServerEtc } from './attach.js';
import { hostTable } from './l4.js';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { forwardingBefore, hostLink, OVN_RUN_DIR, restoreForwarding, underlayTable } from '../ovn/fabric.js';
import { MACHINES_DIR, removeMachineScript } from './machine.js';
import { releaseIdsOf } from '../ids.js';

export async function cleanNamespaces(prefix: string): Promise<string[]> {
  await run('nft', ['delete', 'table', 'ip', hostTable(prefix)]);
  await run('nft', ['delete', 'table', 'ip', `nimbus_edge_${prefix}`]);
  // The ovn plane's link from the host into its underlay and its forwarding table (--join-hosts).
  await run('ip', ['link', 'del', hostLink(prefix)]);
  await run('nft', ['delete', 'table', 'inet', underlayTable(prefix)]);
  await run('sh', ['-c', restoreForwarding(forwardingBefore(prefix))]);
  const mine = (await listNamespaces()).filter((n) => owned(prefix, n));
  // Servers' machines: their user and uts namespaces (also of a machine whose network namespace is gone), and their ids.
  let files: string[] = [];
  try {
    files = readdirSync(MACHINES_DIR).filter((f) => f.startsWith(`${prefix}-ecs-`) && f.endsWith('.user'));
  } catch {
    // no machine was ever made here
  }
  for (const f of files) await run('sh', ['-es'], { input: removeMachineScript(f.slice(0, -'.user'.length)) + '\n' });
  releaseIdsOf(`${prefix}-`);
  // The ovn plane's run folders (its processes die with their namespaces below).
  rmSync(join(OVN_RUN_DIR, prefix), { recursive: true, force: true });
  if (mine.length === 0) return [];
  // What runs inside them goes first (a killed daemon's adopted processes: workloads, resolvers, workers).
  // Again while any is left: a load balancer's socket holder may start HAProxy again between two kills.
  for (let round = 0; round < 10; round++) {
    let found = 0;
    for (const n of mine) {
      const pids = (await run('ip', ['netns', 'pids', n])).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
      found += pids.length;
      if (pids.length > 0) await run('kill', ['-KILL', ...pids]);
    }
    if (found === 0) break;
  }
  const r = await run('ip', ['-force', '-batch', '-'], { input: mine.map((n) => `netns del ${n}`).join('\n') + '\n' });
  for (const n of mine) removeServerEtc(n);
  const left = (await listNamespaces()).filter((n) => owned(prefix, n));
  if (left.length > 0) throw new Error(`could not delete ${left.join(', ')}: ${r.stderr.trim()}`);
  return mine;
}
