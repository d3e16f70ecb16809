import { test } from 'node:test';
import { memoryCloud, refuses } from '../../test/helpers/cloud.js';
import { createVpc } from './vpc/service.js';
import { createSubnet, deleteSubnet } from './subnet/service.js';
import { createServer } from './server/service.js';

test('a dependency refusal names the dependants by kind and name, the first ten and how many more', () => {
  const { ctx } = memoryCloud();
  createVpc(ctx, { name: 'vpc-a', cidr: '10.0.0.0/16' });
  createSubnet(ctx, { name: 'sub-a', vpc: 'vpc-a', cidr: '10.0.1.0/24' });
  createServer(ctx, { name: 'web-0', subnet: 'sub-a' });
  refuses(() => deleteSubnet(ctx, 'sub-a'), 'DependencyViolation', "server 'web-0' (ecs-");
  for (let i = 1; i < 12; i++) createServer(ctx, { name: `web-${i}`, subnet: 'sub-a' });
  refuses(() => deleteSubnet(ctx, 'sub-a'), 'DependencyViolation', "server 'web-9'");
  refuses(() => deleteSubnet(ctx, 'sub-a'), 'DependencyViolation', 'and 2 more; delete them first');
});
