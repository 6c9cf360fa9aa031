import { z } from "zod";

const positiveInt = z.coerce.number().int().min(1);

const Env = z.object({
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required" })
    .regex(/^postgres(ql)?:\/\//, { error: "DATABASE_URL must be a postgres:// or postgresql:// URL" }),
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  WORKER_QUEUE: z.string().min(1).default("default"),
  WORKER_CONCURRENCY: positiveInt.max(64).default(2),
  POLL_INTERVAL_MS: positiveInt.default(1_000),
  LEASE_MS: positiveInt.default(60_000),
  RETRY_BASE_MS: positiveInt.default(1_000),
  RETRY_MAX_MS: positiveInt.default(300_000),
  // Kubernetes waits terminationGracePeriodSeconds (30 s by default) after SIGTERM.
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),
}).refine((values) => values.RETRY_MAX_MS >= values.RETRY_BASE_MS, {
  path: ["RETRY_MAX_MS"],
  error: "RETRY_MAX_MS must not be below RETRY_BASE_MS",
});

export interface Config {
  databaseUrl: string;
  port: number;
  queue: string;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  backoff: { baseMs: number; maxMs: number };
  shutdownTimeoutMs: number;
}

/** Reads the worker's configuration, reporting every problem at once and never a variable's value. */
export function loadConfig(env: Record<string, string | undefined>): { ok: true; config: Config } | { ok: false; problems: string[] } {
  const result = Env.safeParse(env);
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) };
  }
  const values = result.data;
  return {
    ok: true,
    config: {
      databaseUrl: values.DATABASE_URL,
      port: values.PORT,
      queue: values.WORKER_QUEUE,
      concurrency: values.WORKER_CONCURRENCY,
      pollIntervalMs: values.POLL_INTERVAL_MS,
      leaseMs: values.LEASE_MS,
      backoff: { baseMs: values.RETRY_BASE_MS, maxMs: values.RETRY_MAX_MS },
      shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_MS,
    },
  };
}
