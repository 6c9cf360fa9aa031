/**
 * Go-style durations as kubectl and Flux write them (`90s`, `10m`, `1h30m`, `500ms`).
 * Hand-written: no installed library parses this format, and the grammar is a few lines.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h))+$/;

/**
 * The longest wait we accept. Node's timers hold at most 2^31-1 ms (24.8 days) and fire at once beyond
 * that (so `597h` timed out immediately); no rollout check should wait a day anyway.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;
export const MAX_DURATION_TEXT = "24h";

/** Milliseconds, or null when the text is not a positive duration of at most MAX_DURATION_MS. */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return total > 0 && total <= MAX_DURATION_MS ? total : null;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}
