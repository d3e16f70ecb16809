/**
 * ELBv2 operations on Nimbus's load balancers, one room per resource. Ids are Nimbus's,
 * inside ARNs of AWS's form; what differs from AWS is said in docs/aws.md.
 */
import type { Handler } from './kit.js';
import { LOAD_BALANCERS } from './load-balancers.js';
import { TARGET_GROUPS } from './target-groups.js';
import { LISTENERS } from './listeners.js';
import { TAGS } from './tags.js';
import { RULES } from './rules.js';

export const ELBV2: Record<string, Handler> = { ...LOAD_BALANCERS, ...TARGET_GROUPS, ...LISTENERS, ...RULES, ...TAGS };
