export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * How long to wait before retrying after the `attempt`-th failure (1-based): exponential,
 * capped, with "equal jitter" (half fixed, half random) so that jobs failing together, say
 * during a dependency's outage, do not all come back at the same instant
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 * `random` returns a number in [0, 1), like Math.random.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
