/**
 * Expected status codes as Octavia writes them: "200", "200,202", "200-299".
 */
const cache = new Map<string, (code: number) => boolean>();

export function codeMatcher(text: string): (code: number) => boolean {
  let f = cache.get(text);
  if (!f) {
    const ranges = text.split(',').map((p) => {
      const [a, b] = p.trim().split('-').map(Number);
      return [a, b ?? a] as const;
    });
    f = (code) => ranges.some(([a, b]) => code >= a && code <= b);
    cache.set(text, f);
  }
  return f;
}
