import type { Pool } from "pg";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { countJobs } from "./queue.js";

export type Outcome = "done" | "duplicate" | "retry" | "dead" | "stale";

export interface WorkerMetrics {
  registry: Registry;
  jobs: Counter<"kind" | "outcome">;
  duration: Histogram<"kind" | "outcome">;
  inFlight: Gauge;
  pollErrors: Counter;
}

/** A registry of its own per worker process, so tests can run several workers side by side. */
export function createMetrics(pool: Pool, queue: string): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Queue depth by status, read when scraped: what an autoscaler (e.g. KEDA) scales on.
  new Gauge({
    name: "worker_queue_jobs",
    help: "Jobs in this worker's queue, by status",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      try {
        for (const [status, count] of Object.entries(await countJobs(pool, queue))) this.set({ status }, count);
      } catch {
        // The database is unreachable: keep the last values; worker_poll_errors_total reports it.
      }
    },
  });
  return {
    registry,
    jobs: new Counter({
      name: "worker_jobs_total",
      help: "Job attempts finished by this worker, by kind and outcome (done, duplicate, retry, dead, stale)",
      labelNames: ["kind", "outcome"] as const,
      registers,
    }),
    duration: new Histogram({
      name: "worker_job_duration_seconds",
      help: "Time spent processing one job attempt, by kind and outcome",
      labelNames: ["kind", "outcome"] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
    inFlight: new Gauge({ name: "worker_jobs_in_flight", help: "Jobs this worker is processing now", registers }),
    pollErrors: new Counter({
      name: "worker_poll_errors_total",
      help: "Failed attempts to claim a job (database unreachable, ...)",
      registers,
    }),
  };
}
