/**
 * AWS's rules for tags, shared by the EC2 and ELBv2 handlers: at most 50 per resource, keys
 * of 1-128 characters not starting with `aws:`, values up to 256. Tags are kept in the store
 * beside their resource (Store.tags) and go when it is deleted.
 */
import { AwsError } from './codec.js';
import { textProblem } from '../core/text.js';

const MAX_TAGS = 50;

/** Refuses a tag AWS would refuse, with the code the service uses (EC2: InvalidParameterValue, ELBv2: ValidationError). */
export function checkTag(key: unknown, value: unknown, code: string): void {
  const k = String(key ?? '');
  if (k.length < 1 || k.length > 128) throw new AwsError(code, `Tag key '${k}': 1 to 128 characters`);
  if (k.toLowerCase().startsWith('aws:')) throw new AwsError(code, `Tag key '${k}': the aws: prefix is reserved`);
  const keyProblem = textProblem(k, 128);
  if (keyProblem) throw new AwsError(code, `Tag key '${k.replace(/[^\x20-\x7e]/g, '?')}': ${keyProblem}`);
  const valueProblem = textProblem(String(value ?? ''), 256);
  if (valueProblem) throw new AwsError(code, `Tag '${k}': its value ${valueProblem}`);
}

/** Refuses a resource holding more than AWS's 50 tags (`held`: those kept in the store; `own`: tags its fields stand for, EC2's Name). */
export function checkTagCount(id: string, held: number, own: number, code: string): void {
  if (held + own > MAX_TAGS) throw new AwsError(code, `${id}: at most ${MAX_TAGS} tags per resource${own > 0 ? ', Name included' : ''}`);
}
