import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Pool } from "pg";
import { retryDelayMs } from "./backoff.js";
import type { BackoffPolicy } from "./backoff.js";
import type { Handlers, JobHandler } from "./handlers.js";
import { PermanentJobError } from "./handlers.js";
import type { Logger } from "./log.js";
import { errorFields } from "./log.js";
import type { Outcome, WorkerMetrics } from "./metrics.js";
import { buryExpiredJobs, claimJob, completeJob, failJob, hasResult } from "./queue.js";
import type { Job } from "./queue.js";

export interface WorkerOptions {
  pool: Pool;
  queue: string;
  handlers: Handlers;
  /** Jobs processed at the same time by this worker. */
  concurrency: number;
  /** How long to wait before looking again when the queue is empty. */
  pollIntervalMs: number;
  /** How long a claimed job is ours; a job still running then is given up and retried elsewhere. */
  leaseMs: number;
  backoff: BackoffPolicy;
  metrics: WorkerMetrics;
  log: Logger;
  workerId?: string;
  random?: () => number;
}

export interface RunningWorker {
  id: string;
  /** When a slot last looked for work or finished a job (epoch ms): the liveness signal. */
  lastActivityAt(): number;
  /** Stops claiming, lets the jobs in flight finish, resolves when they have. */
  stop(): Promise<void>;
}

/** Starts `concurrency` loops that claim and process jobs until stop() is called. */
export function startWorker(options: WorkerOptions): RunningWorker {
  const id = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const stopping = new AbortController();
  let lastActivity = Date.now();
  let lastBurial = 0;

  async function slot(): Promise<void> {
    while (!stopping.signal.aborted) {
      lastActivity = Date.now();
      let job: Job | undefined;
      try {
        job = await claimJob(options.pool, options.queue, id, options.leaseMs);
      } catch (error) {
        options.metrics.pollErrors.inc();
        options.log.warn("could not claim a job", { worker: id, ...errorFields(error) });
      }
      if (job === undefined) {
        await buryWhenDue();
        await sleep(options.pollIntervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
        continue;
      }
      await processJob(job);
      lastActivity = Date.now();
    }
  }

  // Idle slots look for jobs whose worker died on their last attempt, now and then: the
  // statement is cheap (a partial index) but need not run on every poll.
  const buryEveryMs = Math.min(options.leaseMs, 10 * options.pollIntervalMs);
  async function buryWhenDue(): Promise<void> {
    if (Date.now() - lastBurial < buryEveryMs) return;
    lastBurial = Date.now();
    try {
      const buried = await buryExpiredJobs(options.pool, options.queue);
      if (buried > 0) options.log.warn("jobs dead after their lease expired on the last attempt", { worker: id, buried });
    } catch (error) {
      options.log.warn("could not check for expired jobs", { worker: id, ...errorFields(error) });
    }
  }

  async function processJob(job: Job): Promise<void> {
    const handler = options.handlers.get(job.kind);
    const kind = handler === undefined ? "unknown" : job.kind;
    const stopTimer = options.metrics.duration.startTimer({ kind });
    options.metrics.inFlight.inc();
    let outcome: Outcome;
    try {
      outcome = await attempt(job, handler);
    } catch (error) {
      // Recording the outcome failed (database gone?). The lease will expire and the job
      // will be claimed again; its result, if any, is already safe under its key.
      options.log.error("could not record the outcome of a job", { worker: id, job: job.id, ...errorFields(error) });
      outcome = "stale";
    } finally {
      options.metrics.inFlight.dec();
    }
    stopTimer({ outcome });
    options.metrics.jobs.inc({ kind, outcome });
  }

  async function attempt(job: Job, handler: JobHandler | undefined): Promise<Outcome> {
    // Delivered again after its result was recorded: the work is done, only the bookkeeping is left.
    if (await hasResult(options.pool, job.idempotencyKey)) return completeJob(options.pool, job, null);
    if (handler === undefined) {
      return fail(job, new PermanentJobError(`no handler for job kind "${job.kind}"`));
    }
    // Give up a little before the lease runs out, so that this worker records the failure
    // rather than another one finding the lease expired and taking the job over.
    const deadlineMs = options.leaseMs - Math.min(5_000, Math.floor(options.leaseMs / 5));
    const lease = new AbortController();
    const timer = setTimeout(
      () => lease.abort(new Error(`attempt took longer than ${deadlineMs} ms (lease ${options.leaseMs} ms)`)),
      deadlineMs,
    );
    let result: unknown;
    try {
      const context = { idempotencyKey: job.idempotencyKey, attempt: job.attempts, workerId: id, signal: lease.signal };
      // Past the deadline we stop waiting for this attempt, even if the handler ignores its signal.
      result = await Promise.race([handler(job.payload, context), rejectOnAbort(lease.signal)]);
    } catch (error) {
      return fail(job, error);
    } finally {
      clearTimeout(timer);
    }
    return completeJob(options.pool, job, result);
  }

  async function fail(job: Job, error: unknown): Promise<Outcome> {
    const message = error instanceof Error ? error.message : String(error);
    const final = error instanceof PermanentJobError || job.attempts >= job.maxAttempts;
    const retryInMs = final ? undefined : retryDelayMs(job.attempts, options.backoff, options.random);
    const outcome = await failJob(options.pool, job, id, message, retryInMs);
    const fields = { worker: id, job: job.id, kind: job.kind, attempt: job.attempts, maxAttempts: job.maxAttempts, error: message };
    if (outcome === "dead") options.log.error("job is dead", fields);
    else options.log.warn("job failed", { ...fields, retryInMs, outcome });
    return outcome;
  }

  const slots = Array.from({ length: options.concurrency }, () => slot());
  options.log.info("worker started", { worker: id, queue: options.queue, concurrency: options.concurrency });

  let stopped: Promise<void> | undefined;
  return {
    id,
    lastActivityAt: () => lastActivity,
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await Promise.all(slots);
        options.log.info("worker stopped", { worker: id });
      })()),
  };
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
}
