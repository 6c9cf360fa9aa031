import { z } from "zod";

const Env = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required" })
    .regex(/^postgres(ql)?:\/\//, { error: "DATABASE_URL must be a postgres:// or postgresql:// URL" }),
  // After SIGTERM: how long to keep serving while Kubernetes removes the pod from its
  // Service endpoints (0 when a preStop hook already waits), then how long in-flight
  // requests may take before connections are cut.
  DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
});

export interface Config {
  port: number;
  databaseUrl: string;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
}

/**
 * Reads the api's configuration from the environment and reports every problem at once.
 * Messages name the variable, never its value: DATABASE_URL carries a password.
 */
export function loadConfig(env: Record<string, string | undefined>): { ok: true; config: Config } | { ok: false; problems: string[] } {
  const result = Env.safeParse(env);
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) };
  }
  const { PORT, DATABASE_URL, DRAIN_DELAY_MS, SHUTDOWN_TIMEOUT_MS } = result.data;
  return {
    ok: true,
    config: { port: PORT, databaseUrl: DATABASE_URL, drainDelayMs: DRAIN_DELAY_MS, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS },
  };
}
