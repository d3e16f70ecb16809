/**
 * The names AWS's formats need for Nimbus's resources: a project's account id and a server's
 * network interface id. The AWS endpoint and flow-log records show the same ones.
 */
import { createHash } from 'node:crypto';

/** A project's AWS account id: 12 digits, stable, drawn from its id. */
export function accountId(projectId: string): string {
  const n = createHash('sha256').update(`nimbus-account:${projectId}`).digest().readBigUInt64BE(0) % 10n ** 12n;
  return n.toString().padStart(12, '0');
}

/** An endpoint's one network interface: `eni-` and its id's hex (ecs-X has eni-X). */
export const interfaceIdOf = (endpointId: string) => `eni-${endpointId.slice(endpointId.indexOf('-') + 1)}`;
