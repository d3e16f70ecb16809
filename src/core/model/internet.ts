/**
 * "The internet": a network namespace each installation owns, on the documentation range
 * 203.0.113.0/24 (RFC 5737), with a router (.1) and hosts. A host answers HTTP on port 80
 * with the source address it saw (so NAT can be seen) and echoes TCP and UDP on port 7.
 */
import { Type, type Static } from '@sinclair/typebox';
import { S } from './kit.js';

export const INTERNET_CIDR = '203.0.113.0/24';
/** The internet's router: the host machine's connections to public IPs arrive from it. */
export const INTERNET_ROUTER = '203.0.113.1';
/** The host every internet has from the start. */
export const DEFAULT_HOST = { name: 'www', ip: '203.0.113.10' };
export const HTTP_PORT = 80;
export const ECHO_PORT = 7;

export const InternetHost = Type.Object(
  {
    id: S(),
    name: S(),
    ip: S(),
    builtIn: Type.Boolean({ description: 'The host every internet has (www, 203.0.113.10); it cannot be removed' }),
    createdAt: S(),
  },
  { $id: 'InternetHost' },
);
export type InternetHost = Static<typeof InternetHost>;

export const InternetHostInput = Type.Object(
  {
    name: S({ minLength: 1, maxLength: 63 }),
    ip: Type.Optional(S({ description: 'An address of 203.0.113.0/24 (.2-.254); the lowest free one when absent', maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type InternetHostInput = Static<typeof InternetHostInput>;
