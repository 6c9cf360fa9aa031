/**
 * One webhook POST with a deadline and at most two attempts. A notification must never hold up or fail a
 * release: the whole delivery (both attempts and the wait between them) ends by `deadlineMs`, and the
 * outcome is returned, never thrown. Node's fetch (undici) is enough here: one JSON POST, AbortSignal for
 * the deadline; no client library needed.
 */

export interface Delivery {
  outcome: "delivered" | "failed";
  attempts: number;
  /** The last HTTP status, when a response came. */
  httpStatus: number | null;
  /** Why it failed, one line (the response body's start; the caller's output masks the URL). */
  error: string | null;
  ms: number;
}

export const MAX_ATTEMPTS = 2;
/** Wait before the 2nd attempt when a 5xx/429 gives no Retry-After. */
const DEFAULT_RETRY_MS = 1000;
const BODY_SNIPPET = 300;

/** Retry-After as seconds or an HTTP date (RFC 9110 10.2.3), in ms; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function describe(error: unknown, timedOut: boolean, deadlineMs: number): string {
  if (timedOut) return `no answer within ${Math.round(deadlineMs / 100) / 10}s (SLIPWAY_NOTIFY_TIMEOUT)`;
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${message}: ${cause.code}` : cause?.message ? `${message}: ${cause.message}` : message;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `onRetry` is told the wait before the next attempt (the CLI's live status line says it). */
export async function postJson(url: string, payload: unknown, deadlineMs: number, onRetry?: (waitMs: number, error: string, attempt: number) => void): Promise<Delivery> {
  const started = Date.now();
  const left = () => deadlineMs - (Date.now() - started);
  const body = JSON.stringify(payload);
  let attempts = 0;
  let httpStatus: number | null = null;
  let error: string | null = null;
  while (attempts < MAX_ATTEMPTS && left() > 0) {
    attempts++;
    const signal = AbortSignal.timeout(Math.max(1, left()));
    let retryWait: number | null = null;
    try {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal, redirect: "error" });
      httpStatus = response.status;
      // Read the body under the same deadline: a server may send headers and then stall.
      const text = (await response.text()).replace(/\s+/g, " ").trim();
      // Slack answers 200 "ok"; a Workflows webhook 202 Accepted (the flow runs afterwards).
      if (response.ok) return { outcome: "delivered", attempts, httpStatus, error: null, ms: Date.now() - started };
      error = `HTTP ${response.status}${text ? `: ${text.slice(0, BODY_SNIPPET)}${text.length > BODY_SNIPPET ? "…" : ""}` : ""}`;
      if (response.status === 429 || response.status >= 500) retryWait = retryAfterMs(response.headers.get("retry-after")) ?? DEFAULT_RETRY_MS;
    } catch (caught) {
      const timedOut = signal.aborted;
      error = describe(caught, timedOut, deadlineMs);
      // A refused or reset connection may be a blip; a timeout has used the whole budget.
      if (!timedOut) retryWait = DEFAULT_RETRY_MS;
    }
    if (retryWait === null || attempts >= MAX_ATTEMPTS) break;
    if (retryWait >= left()) {
      error = `${error}; not retried: the server asked to wait ${Math.ceil(retryWait / 1000)}s, beyond SLIPWAY_NOTIFY_TIMEOUT`;
      break;
    }
    onRetry?.(retryWait, error ?? "", attempts + 1);
    await sleep(retryWait);
  }
  return { outcome: "failed", attempts, httpStatus, error, ms: Date.now() - started };
}
