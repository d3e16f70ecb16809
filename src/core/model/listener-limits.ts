/**
 * Octavia's listener limits and their defaults, free of schema code (the CLI shows them).
 */
export const LISTENER_LIMITS = {
  connectionLimit: { min: -1, max: 1_000_000, default: -1, description: 'connections open at once beyond which new ones are closed at once; -1 for none' },
  timeoutClientData: { min: 1_000, max: 86_400_000, default: 50_000, description: 'ms a client may stay silent (between requests too)' },
  timeoutMemberConnect: { min: 100, max: 300_000, default: 5_000, description: 'ms to connect to a member before another is tried' },
  timeoutMemberData: { min: 1_000, max: 86_400_000, default: 50_000, description: 'ms a member may stay silent in an exchange before the client gets 504' },
  timeoutHttpRequest: { min: 100, max: 300_000, default: 10_000, description: 'ms a request head may take to arrive whole (slowloris) before 408' },
  timeoutTcpInspect: {
    min: 0,
    max: 300_000,
    default: 0,
    description: "ms a TCP listener waits for the client's first bytes before it connects to a member (HAProxy's tcp-request inspect-delay; 0: at once)",
  },
} as const;
export type ListenerLimit = keyof typeof LISTENER_LIMITS;

/**
 * A pool's own member timeouts (HAProxy's backend `timeout connect` and `timeout server`):
 * absent or null, the listener's apply.
 */
export const POOL_LIMITS = {
  timeoutMemberConnect: { ...LISTENER_LIMITS.timeoutMemberConnect, description: "ms to connect to this pool's members (default: the listener's)" },
  timeoutMemberData: { ...LISTENER_LIMITS.timeoutMemberData, description: "ms this pool's members may stay silent in an exchange (default: the listener's)" },
} as const;
export type PoolLimit = keyof typeof POOL_LIMITS;
