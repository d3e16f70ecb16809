/**
 * Flow logs through the service: exactly one resource watched, AWS's traffic types and
 * intervals, one log per resource and traffic type, and the logs go with what they watch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud, refuses } from '../../../test/helpers/cloud.js';
import { createVpc, deleteVpc } from '../vpc/service.js';
import { createSubnet, deleteSubnet } from '../subnet/service.js';
import { createServer, deleteServer } from '../server/service.js';
import { createFlowLog, deleteFlowLog, listFlowLogs } from './service.js';

function cloud() {
  const { ctx } = memoryCloud();
  createVpc(ctx, { name: 'v', cidr: '10.0.0.0/16' });
  createSubnet(ctx, { name: 's', vpc: 'v', cidr: '10.0.1.0/24' });
  createSubnet(ctx, { name: 't', vpc: 'v', cidr: '10.0.2.0/24' });
  createServer(ctx, { name: 'e', subnet: 's' });
  return ctx;
}

test('a flow log watches exactly one VPC, subnet or server, with AWS traffic types and intervals', () => {
  const ctx = cloud();
  const f = createFlowLog(ctx, { name: 'f', server: 'e', trafficType: 'reject', maxAggregationInterval: 60 });
  assert.equal(f.resourceType, 'server');
  assert.equal(f.trafficType, 'REJECT');
  assert.equal(f.vpcId, listFlowLogs(ctx, { vpc: 'v' })[0].vpcId);
  assert.equal(f.destination, `nimbus:flowlogs/${f.id}.log`);
  assert.equal(createFlowLog(ctx, { name: 'g', vpc: 'v' }).maxAggregationInterval, 600);
  refuses(() => createFlowLog(ctx, { name: 'x' }), 'InvalidParameterValue', 'given: none');
  refuses(() => createFlowLog(ctx, { name: 'x', vpc: 'v', subnet: 's' }), 'InvalidParameterValue', 'given: vpc, subnet');
  refuses(() => createFlowLog(ctx, { name: 'x', subnet: 's', trafficType: 'SOME' }), 'InvalidParameterValue', "'SOME'");
  refuses(() => createFlowLog(ctx, { name: 'x', subnet: 's', maxAggregationInterval: 30 }), 'InvalidParameterValue', '30');
  refuses(() => createFlowLog(ctx, { name: 'x', subnet: 'nope' }), 'InvalidSubnetID.NotFound', 'nope');
  refuses(() => createFlowLog(ctx, { name: 'x', server: 'e', trafficType: 'REJECT' }), 'FlowLogAlreadyExists', "'f'");
  assert.equal(listFlowLogs(ctx).length, 2, 'the refusals made nothing');
});

test('flow logs go with the server, the subnet or the VPC they watch', () => {
  const ctx = cloud();
  createFlowLog(ctx, { name: 'on-server', server: 'e' });
  createFlowLog(ctx, { name: 'on-t', subnet: 't' });
  createFlowLog(ctx, { name: 'on-vpc', vpc: 'v' });
  deleteServer(ctx, 'e');
  assert.deepEqual(
    listFlowLogs(ctx).map((f) => f.name),
    ['on-t', 'on-vpc'],
  );
  deleteSubnet(ctx, 't');
  assert.deepEqual(
    listFlowLogs(ctx).map((f) => f.name),
    ['on-vpc'],
  );
  deleteFlowLog(ctx, 'on-vpc');
  createFlowLog(ctx, { name: 'again', vpc: 'v' });
  deleteSubnet(ctx, 's');
  deleteVpc(ctx, 'v');
  assert.deepEqual(listFlowLogs(ctx), []);
});
