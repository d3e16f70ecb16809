/**
 * A control plane on an in-memory store, for tests of the services and the analyzer.
 */
import assert from 'node:assert/strict';
import { Store } from '../../src/store/db.js';
import { ChangeFeed, type Ctx } from '../../src/resources/context.js';
import { createProject, ensureDefaultProject } from '../../src/resources/project/service.js';
import { NimbusError, type ErrorCode } from '../../src/core/errors.js';
import { createVpc } from '../../src/resources/vpc/service.js';
import { createSubnet } from '../../src/resources/subnet/service.js';
import { createServer } from '../../src/resources/server/service.js';

export function memoryCloud(): { ctx: Ctx; store: Store; other: (name: string) => Ctx } {
  const store = new Store(':memory:');
  const feed = new ChangeFeed();
  const base = { store, feed, projectId: '', admin: true };
  const project = ensureDefaultProject(base);
  return {
    ctx: { ...base, projectId: project.id },
    store,
    other: (name: string) => ({ ...base, projectId: createProject(base, { name }).id }),
  };
}

/** The reference lab's part 1 before its peering, through the services: two VPCs, a subnet and a server in each. */
export function referenceLab() {
  const cloud = memoryCloud();
  const { ctx } = cloud;
  createVpc(ctx, { name: 'vpc-a', cidr: '192.168.6.0/24' });
  createVpc(ctx, { name: 'vpc-b', cidr: '192.168.5.0/24' });
  createSubnet(ctx, { name: 'sub-a', vpc: 'vpc-a', cidr: '192.168.6.0/25' });
  createSubnet(ctx, { name: 'sub-b', vpc: 'vpc-b', cidr: '192.168.5.0/24' });
  createServer(ctx, { name: 'ecs-a', subnet: 'sub-a', ip: '192.168.6.76' });
  createServer(ctx, { name: 'ecs-b', subnet: 'sub-b', ip: '192.168.5.130' });
  return cloud;
}

/** Asserts that `fn` is refused with `code`, and that the message names `mentions`. */
export function refuses(fn: () => unknown, code: ErrorCode, mentions?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NimbusError, `expected a NimbusError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (mentions) assert.ok(err.message.includes(mentions), `message '${err.message}' should name '${mentions}'`);
    return true;
  });
}
