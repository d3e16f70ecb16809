/**
 * How the daemon speaks to a load balancer's worker: over the IPC channel of one it started
 * (which can also hand over listening sockets), or over the control socket of one a killed
 * daemon left serving (control-socket.ts).
 */
import type { ChildProcess } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import type { Line } from '../lb/control-socket.js';
import type { FromWorker, ToWorker } from '../lb/ipc.js';

/** How the daemon speaks to a worker: the IPC channel of one it started, or the control socket of one it adopted. */
export interface WorkerLink {
  connected(): boolean;
  /** Whether listening sockets can be handed over (IPC only). */
  handsSockets: boolean;
  send(msg: ToWorker, handle?: Server | Socket, done?: () => void): void;
  onMessage(fn: (msg: FromWorker) => void): void;
  onGone(fn: () => void): void;
}

export function ipcLink(child: ChildProcess): WorkerLink {
  return {
    connected: () => child.connected,
    handsSockets: true,
    send: (msg, handle, done) => (handle ? child.send(msg, handle, done) : child.send(msg)),
    onMessage: (fn) => child.on('message', fn),
    onGone: (fn) => child.on('exit', fn),
  };
}

export function controlLink(line: Line<FromWorker, ToWorker>): WorkerLink {
  let open = true;
  line.onClose(() => (open = false));
  return {
    connected: () => open,
    handsSockets: false,
    send: (msg) => line.send(msg),
    onMessage: (fn) => line.onMessage(fn),
    onGone: (fn) => line.onClose(fn),
  };
}
