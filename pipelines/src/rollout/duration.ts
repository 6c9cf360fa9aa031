/**
 * Go-style durations as kubectl and Flux write them (`90s`, `10m`, `1h30m`, `500ms`).
 * Hand-written: no installed library parses this format, and the grammar is a few lines.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h))+$/;

/** Milliseconds, or null when the text is not a positive duration. */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return total > 0 ? total : null;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}
