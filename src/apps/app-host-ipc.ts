/** The messages between the daemon and the app host (app-host.ts), over its IPC channel. */

/** Serve this server's web app on the listening socket sent with the message (opened in the server's namespace). */
export interface ServeMsg {
  type: 'serve';
  id: string;
  name: string;
  ip: string;
  /** The request log, in the app host's own folder. */
  log: string;
}

/** Stop serving it: close its socket and every connection it has. */
export interface CloseMsg {
  type: 'close';
  id: string;
}

/**
 * A connection to this server's socket that a process on the way (the hand-over, the daemon)
 * accepted while the socket passed through it: sent with the message, unread, to be served.
 */
export interface ConnMsg {
  type: 'conn';
  id: string;
}

export type ToAppHost = ServeMsg | CloseMsg | ConnMsg;

export type FromAppHost =
  { type: 'ready' } | { type: 'serving'; id: string } | { type: 'closed'; id: string } | { type: 'failed'; id: string; message: string };

/** What the hand-over process (hand-over.ts) tells the daemon of each socket asked for. */
export type Handed = { id: string; ino: number } | { id: string; error: string } | { id: string; conn: true };
