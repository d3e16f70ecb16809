/**
 * IPv4 CIDR maths. Parsing and validation go through ipaddr.js; the arithmetic the analyzer
 * runs per packet works on unsigned 32-bit integers.
 */
import ipaddr from 'ipaddr.js';
import { invalid } from './errors.js';

export interface Cidr {
  /** Network address as an unsigned 32-bit integer (host bits cleared). */
  readonly net: number;
  readonly prefix: number;
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Canonical dotted decimal only: four numbers 0-255 without leading zeros. `012.0.0.0` is
 * refused rather than read as octal (10.0.0.0), as inet_aton would: input means exactly what
 * was typed, everywhere an address enters.
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const CANONICAL_IP = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const CANONICAL_CIDR = new RegExp(`^(${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET})/(3[0-2]|[12]\\d|\\d)$`);

/** Parses a dotted IPv4 address; throws InvalidParameterValue naming the field. */
export function parseIp(text: string, field = 'ip'): number {
  if (typeof text !== 'string' || !CANONICAL_IP.test(text)) {
    throw invalid(`${field}: '${text}' is not an IPv4 address in dotted decimal (four numbers 0-255, no leading zeros)`);
  }
  return ipToInt(text);
}

export function ipToInt(text: string): number {
  const b = ipaddr.IPv4.parse(text).octets;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Parses `a.b.c.d/p`. Host bits are cleared (AWS stores 10.0.0.5/16 as 10.0.0.0/16).
 */
export function parseCidr(text: string, field = 'cidr'): Cidr {
  if (typeof text !== 'string' || !CANONICAL_CIDR.test(text)) {
    throw invalid(`${field}: '${text}' is not an IPv4 CIDR such as 10.0.0.0/16 (dotted decimal, no leading zeros, prefix 0-32)`);
  }
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.IPv4.parseCIDR(text);
  } catch {
    throw invalid(`${field}: '${text}' is not an IPv4 CIDR such as 10.0.0.0/16`);
  }
  const prefix = parsed[1];
  const net = (ipToInt(parsed[0].toString()) & maskOf(prefix)) >>> 0;
  return { net, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.net)}/${c.prefix}`;
}

/** Canonical text of a CIDR: host bits cleared. */
export function normalizeCidr(text: string, field = 'cidr'): string {
  return formatCidr(parseCidr(text, field));
}

export function contains(outer: Cidr, ip: number): boolean {
  return (ip & maskOf(outer.prefix)) >>> 0 === outer.net;
}

export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.net);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsCidr(a, b) || containsCidr(b, a);
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function lastAddress(c: Cidr): number {
  return (c.net + size(c) - 1) >>> 0;
}

/** The RFC 1918 ranges a VPC CIDR must fall in. */
export const PRIVATE_RANGES: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((t) => parseCidr(t));

/** First host of a subnet: its gateway, as on AWS and Huawei Cloud. */
export function gatewayOf(c: Cidr): number {
  return (c.net + 1) >>> 0;
}

/**
 * Whether an address of a subnet is reserved: the network address, the gateway (first host),
 * and the last three (Huawei's .253 DNS/.254 system/.255 broadcast in a /24).
 */
export function isReserved(c: Cidr, ip: number): boolean {
  const offset = (ip - c.net) >>> 0;
  const n = size(c);
  return offset <= 1 || offset >= n - 3;
}

/** Number of addresses a server can use in a subnet. */
export function usableCount(c: Cidr): number {
  return Math.max(0, size(c) - 5);
}
