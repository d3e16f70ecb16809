/**
 * ICMP in a security-group rule: a type, and optionally a code, as AWS's FromPort/ToPort (-1:
 * any) and nftables' `icmp type N code M`. Absent, a rule admits every ICMP message. Pure.
 */
import { invalid } from './errors.js';

export interface IcmpMatch {
  type: number;
  /** Absent: any code of the type. */
  code?: number;
}

const byte = (n: number) => Number.isInteger(n) && n >= 0 && n <= 255;

/** "8" (echo request, any code) or "3/4" (type/code). */
export function parseIcmp(text: string, field = 'icmp'): IcmpMatch {
  const m = /^(\d{1,3})(?:\/(\d{1,3}))?$/.exec(text.trim());
  const type = m ? Number(m[1]) : NaN;
  const code = m?.[2] !== undefined ? Number(m[2]) : undefined;
  if (!m || !byte(type) || (code !== undefined && !byte(code)))
    throw invalid(`${field}: '${text}' must be an ICMP type (0-255), optionally with a code, such as 8 or 3/4`);
  return code === undefined ? { type } : { type, code };
}

/** The rule's ICMP part as people read it: 'all', 'type 8', 'type 3 code 4'. */
export function icmpText(icmp: IcmpMatch | undefined): string {
  if (!icmp) return 'all';
  return icmp.code === undefined ? `type ${icmp.type}` : `type ${icmp.type} code ${icmp.code}`;
}

/** The input form: '8' or '3/4'. */
export function icmpInput(icmp: IcmpMatch): string {
  return icmp.code === undefined ? `${icmp.type}` : `${icmp.type}/${icmp.code}`;
}

/** Whether a rule's ICMP part admits an echo request (type 8, code 0): what ping and trace send. */
export function admitsEcho(icmp: IcmpMatch | undefined): boolean {
  return !icmp || (icmp.type === 8 && (icmp.code === undefined || icmp.code === 0));
}
