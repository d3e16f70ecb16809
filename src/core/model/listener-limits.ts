/**
 * Octavia's listener limits and their defaults, free of schema code (the CLI shows them).
 */
export const LISTENER_LIMITS = {
  connectionLimit: { min: -1, max: 1_000_000, default: -1, description: 'connections open at once beyond which new ones are closed at once; -1 for none' },
  timeoutClientData: { min: 1_000, max: 86_400_000, default: 50_000, description: 'ms a client may stay silent (between requests too)' },
  timeoutMemberConnect: { min: 100, max: 300_000, default: 5_000, description: 'ms to connect to a member before another is tried' },
  timeoutMemberData: { min: 1_000, max: 86_400_000, default: 50_000, description: 'ms a member may stay silent in an exchange before the client gets 504' },
  timeoutHttpRequest: { min: 100, max: 300_000, default: 10_000, description: 'ms a request head may take to arrive whole (slowloris) before 408' },
} as const;
export type ListenerLimit = keyof typeof LISTENER_LIMITS;
