import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Config } from "./config.js";
import { ensureSchema } from "./db-schema.js";
import { defaultHandlers } from "./handlers.js";
import type { Handlers } from "./handlers.js";
import { startHealthServer } from "./http.js";
import type { Logger } from "./log.js";
import { errorFields } from "./log.js";
import { createMetrics } from "./metrics.js";
import { startWorker } from "./worker.js";
import type { RunningWorker } from "./worker.js";

export interface RunningService {
  port: number;
  /** Resolves once the schema is in place and the job loops run (or the service stops first). */
  started: Promise<void>;
  /** Stops claiming, waits up to shutdownTimeoutMs for jobs in flight, closes the pool. */
  stop(): Promise<void>;
}

/**
 * The worker process: health server first, then schema set-up (retried until the database
 * answers, so a database outage does not crash-loop the pod), then the job loops.
 */
export async function startService(config: Config, log: Logger, handlers: Handlers = defaultHandlers): Promise<RunningService> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.concurrency + 2, application_name: "slipway-worker" });
  // An idle client losing its connection is reported here; without a listener it would crash the process.
  pool.on("error", (error) => log.warn("idle database connection failed", errorFields(error)));
  const metrics = createMetrics(pool, config.queue);
  let worker: RunningWorker | undefined;

  const health = await startHealthServer({
    port: config.port,
    metrics,
    // Until the loops run, set-up is retrying by itself; a restart would not help.
    lastActivityAt: () => worker?.lastActivityAt() ?? Date.now(),
    stallAfterMs: config.leaseMs + 10 * config.pollIntervalMs,
  });
  log.info("listening", { port: health.port });

  const stopping = new AbortController();
  const started = (async () => {
    for (let attempt = 1; !stopping.signal.aborted; attempt += 1) {
      try {
        await ensureSchema(pool);
        worker = startWorker({ ...config, pool, handlers, metrics, log });
        return;
      } catch (error) {
        const retryInMs = Math.min(10_000, 500 * 2 ** (attempt - 1));
        log.warn("database not ready; retrying", { attempt, retryInMs, ...errorFields(error) });
        await sleep(retryInMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  })();

  let stopped: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    stopping.abort();
    await started;
    if (worker !== undefined) {
      const finished = await Promise.race([
        worker.stop().then(() => true),
        sleep(config.shutdownTimeoutMs, false, { ref: false }),
      ]);
      // Jobs still running keep their rows in 'running'; their leases expire and another replica retries them.
      if (!finished) log.warn("jobs still running at shutdown; they will be retried when their lease expires");
    }
    await health.close();
    await pool.end();
    log.info("stopped");
  }

  return { port: health.port, started, stop: () => (stopped ??= shutdown()) };
}
