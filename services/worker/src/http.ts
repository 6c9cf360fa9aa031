import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { WorkerMetrics } from "./metrics.js";

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's only HTTP surface. /healthz is liveness: 200 while the job loop keeps
 * turning, 503 once it has been silent longer than `stallAfterMs` (a wedged loop is
 * what a restart fixes). /metrics is for Prometheus.
 */
export async function startHealthServer(options: {
  port: number;
  metrics: WorkerMetrics;
  lastActivityAt: () => number;
  stallAfterMs: number;
}): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      const silentForMs = Date.now() - options.lastActivityAt();
      const healthy = silentForMs <= options.stallAfterMs;
      const body = JSON.stringify({ status: healthy ? "ok" : "stalled", silentForMs });
      response.writeHead(healthy ? 200 : 503, { "content-type": "application/json; charset=utf-8" }).end(body);
      return;
    }
    if (path === "/metrics") {
      options.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    response.writeHead(404, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
