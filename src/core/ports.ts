/** A port range as people and files write it: `80`, or `1024-65535` (pure). */
export function rangeText(r: { from: number; to: number }): string {
  return r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`;
}
