import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { DataSource } from "typeorm";
import type { Config } from "./config.js";
import { createDataSource } from "./data-source.js";
import { createApp } from "./http/app.js";
import type { Logger } from "./log.js";
import { errorFields } from "./log.js";
import { createMetrics } from "./metrics.js";

export interface RunningApi {
  port: number;
  dataSource: DataSource;
  /** Resolves once the first database connection is up (or the api stops first). */
  connected: Promise<void>;
  /** Graceful shutdown: fail readiness, wait the drain delay, finish in-flight requests, close the pool. */
  stop(): Promise<void>;
}

/**
 * Starts the api: the HTTP server first, so liveness answers at once, then the database
 * connection, retried in the background. Until it is up, /readyz answers 503 and the pod
 * receives no traffic, instead of crash-looping while the database is unreachable.
 */
export async function startApi(config: Config, log: Logger, dataSource = createDataSource(config.databaseUrl)): Promise<RunningApi> {
  const app = createApp({ dataSource, metrics: createMetrics(), log });
  const server = createServer((request, response) => {
    app.handle(request, response).catch((error: unknown) => {
      log.error("unhandled error while answering a request", errorFields(error));
      response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info("listening", { port });

  const stopConnecting = new AbortController();
  const connected = connectWithRetry(dataSource, log, stopConnecting.signal);

  let stopping: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    app.startDraining();
    stopConnecting.abort();
    if (config.drainDelayMs > 0) await sleep(config.drainDelayMs);
    await closeServer(server, config.shutdownTimeoutMs);
    await connected;
    if (dataSource.isInitialized) await dataSource.destroy();
    log.info("stopped");
  }

  return {
    port,
    dataSource,
    connected,
    stop: () => (stopping ??= shutdown()),
  };
}

/** Connects the DataSource, retrying with capped exponential backoff until it succeeds or `signal` aborts. */
export async function connectWithRetry(
  dataSource: DataSource,
  log: Logger,
  signal: AbortSignal,
  { initialDelayMs = 500, maxDelayMs = 10_000 } = {},
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    try {
      await dataSource.initialize();
      log.info("database connected", { attempt });
      return;
    } catch (error) {
      const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      log.warn("database connection failed; retrying", { attempt, retryInMs: delayMs, ...errorFields(error) });
      await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

/**
 * Stops accepting connections and waits for in-flight requests; after `timeoutMs`
 * the remaining connections are cut so the process ends within Kubernetes' grace period.
 */
export function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close((error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
