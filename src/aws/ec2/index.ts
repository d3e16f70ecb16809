/**
 * EC2 operations on Nimbus's services, one room per resource: each handler maps an AWS input
 * (as the model names it) to a service call and the result to the AWS output shape. The rules
 * and refusals are the services' own, with their codes. An AWS account is a Nimbus project;
 * what is accepted and not kept is said in docs/aws.md.
 */
import type { Handler } from './kit.js';
import { ACCOUNT } from './account.js';
import { VPCS } from './vpcs.js';
import { GROUPS } from './groups.js';
import { INSTANCES } from './instances.js';
import { INTERFACES } from './interfaces.js';
import { ROUTES } from './routes.js';
import { PEERINGS } from './peerings.js';
import { EDGE } from './edge.js';
import { TAGS } from './tags.js';
import { ACLS } from './acls.js';
import { FLOW_LOGS } from './flow-logs.js';

export const EC2: Record<string, Handler> = {
  ...ACCOUNT,
  ...VPCS,
  ...GROUPS,
  ...INSTANCES,
  ...INTERFACES,
  ...ROUTES,
  ...PEERINGS,
  ...EDGE,
  ...ACLS,
  ...FLOW_LOGS,
  ...TAGS,
};
