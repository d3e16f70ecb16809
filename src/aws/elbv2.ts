/**
 * ELBv2 operations. None is served yet: an AWS target group stands alone until a listener
 * forwards to it, while a Nimbus pool belongs to its load balancer from the start, and that
 * mapping (target groups kept aside until CreateListener binds them) is still to be built.
 * Every ELBv2 action is answered UnknownOperationException with its name (docs/aws.md).
 */
import type { Handler } from './ec2.js';

export const ELBV2: Record<string, Handler> = {};
