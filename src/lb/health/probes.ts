/**
 * The real probes: a TCP connect, or an HTTP GET whose status must be among the expected
 * codes; both give up after the timeout.
 */
import { connect } from 'node:net';
import type { CheckSpec, Probe, Target } from './checker.js';
import { codeMatcher } from './codes.js';
import { HEALTH_CHECK_AGENT } from '../config.js';

export const realProbe: Probe = (t: Target, spec: CheckSpec) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: t.host, port: t.port });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(spec.timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => {
      if (spec.type === 'TCP') return finish(true);
      socket.write(`GET ${spec.urlPath} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nUser-Agent: ${HEALTH_CHECK_AGENT}\r\nConnection: close\r\n\r\n`);
    });
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      head += d;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) finish(codeMatcher(spec.expectedCodes)(Number(m[1])));
      else if (head.length > 64) finish(false);
    });
    socket.on('end', () => finish(false));
  });
