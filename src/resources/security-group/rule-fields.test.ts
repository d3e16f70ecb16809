/**
 * The class behind "an ICMP rule with a type is widened" and "All TCP is refused": a rule's
 * fields lost or refused between what the user asked and what is stored, shown, written to a
 * topology file and enforced. Every accepted input, through the service, is stored as asked,
 * shown as asked, comes back from the file form unchanged, and reaches the nftables text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryCloud, refuses } from '../../../test/helpers/cloud.js';
import { addRule, createSecurityGroup } from './service.js';
import { ruleText, storedRule } from '../topology/plan.js';
import { serverRuleset } from '../../dataplane/linux/nft.js';
import type { RuleInput } from '../../core/model/index.js';

const CASES: { input: Omit<RuleInput, 'remote' | 'direction'>; stored: object; shown: string; nft: RegExp }[] = [
  { input: { protocol: 'icmp', icmp: '8' }, stored: { portRange: null, icmp: { type: 8 } }, shown: 'icmp:type 8', nft: /meta l4proto icmp icmp type 8 accept/ },
  {
    input: { protocol: 'icmp', icmp: '3/4' },
    stored: { portRange: null, icmp: { type: 3, code: 4 } },
    shown: 'icmp:type 3 code 4',
    nft: /icmp type 3 icmp code 4 accept/,
  },
  { input: { protocol: 'icmp' }, stored: { portRange: null }, shown: 'icmp:all', nft: /meta l4proto icmp accept/ },
  { input: { protocol: 'tcp', ports: '0-65535' }, stored: { portRange: null }, shown: 'tcp:all', nft: /meta l4proto tcp accept/ },
  { input: { protocol: 'udp', ports: '0-1024' }, stored: { portRange: { from: 1, to: 1024 } }, shown: 'udp:1-1024', nft: /udp dport 1-1024 accept/ },
  { input: { protocol: 'tcp', ports: '8080' }, stored: { portRange: { from: 8080, to: 8080 } }, shown: 'tcp:8080', nft: /tcp dport 8080 accept/ },
];

test('every accepted rule is stored, shown, written to a file and enforced as it was asked', () => {
  const { ctx } = memoryCloud();
  createSecurityGroup(ctx, { name: 'g' });
  for (const c of CASES) {
    const input: RuleInput = { direction: 'ingress', remote: '10.0.0.0/8', ...c.input };
    const g = addRule(ctx, 'g', input);
    const rule = g.rules[g.rules.length - 1];
    assert.deepEqual({ portRange: rule.portRange, ...(rule.icmp ? { icmp: rule.icmp } : {}) }, c.stored, JSON.stringify(c.input));
    const file = storedRule(ctx, rule);
    assert.equal(ruleText(file), ruleText(input), 'the file form reads as the input');
    assert.match(ruleText(file), new RegExp(c.shown.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    const again = addRule(memoryCloudGroup(), 'g', file);
    assert.deepEqual(again.rules[again.rules.length - 1].icmp, rule.icmp, 'the file form makes the same rule');
    assert.match(
      serverRuleset([rule], () => []),
      c.nft,
    );
  }
});

function memoryCloudGroup() {
  const { ctx } = memoryCloud();
  createSecurityGroup(ctx, { name: 'g' });
  return ctx;
}

test('ICMP types and codes are kept apart: a rule per type, duplicates refused, no icmp on tcp, no port 0', () => {
  const { ctx } = memoryCloud();
  createSecurityGroup(ctx, { name: 'g' });
  addRule(ctx, 'g', { direction: 'ingress', protocol: 'icmp', icmp: '8', remote: '0.0.0.0/0' });
  addRule(ctx, 'g', { direction: 'ingress', protocol: 'icmp', icmp: '0', remote: '0.0.0.0/0' });
  refuses(() => addRule(ctx, 'g', { direction: 'ingress', protocol: 'icmp', icmp: '8', remote: '0.0.0.0/0' }), 'InvalidPermission.Duplicate', 'ingress');
  refuses(() => addRule(ctx, 'g', { direction: 'ingress', protocol: 'tcp', icmp: '8', remote: '0.0.0.0/0' }), 'InvalidParameterValue', "'8'");
  refuses(() => addRule(ctx, 'g', { direction: 'ingress', protocol: 'icmp', icmp: '256', remote: '0.0.0.0/0' }), 'InvalidParameterValue', "'256'");
  refuses(() => addRule(ctx, 'g', { direction: 'ingress', protocol: 'tcp', ports: '0', remote: '0.0.0.0/0' }), 'InvalidParameterValue', "'0'");
});
