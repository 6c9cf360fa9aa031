import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer } from "../src/http.js";
import type { HealthServer } from "../src/http.js";
import { createMetrics } from "../src/metrics.js";
import type pg from "pg";

describe("services/worker/src/http", () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  // The queue-depth gauge is never scraped here, so no pool is needed.
  const metrics = createMetrics(undefined as unknown as pg.Pool, "default");

  it.each([
    { silentForMs: 0, status: 200, body: "ok" },
    { silentForMs: 5_000, status: 503, body: "stalled" },
  ])("answers /healthz $status when the job loop was last active $silentForMs ms ago", async ({ silentForMs, status, body }) => {
    server = await startHealthServer({ port: 0, metrics, lastActivityAt: () => Date.now() - silentForMs, stallAfterMs: 1_000 });
    const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ status: body });
  });

  it("answers 404 elsewhere and 405 to other methods", async () => {
    server = await startHealthServer({ port: 0, metrics, lastActivityAt: () => Date.now(), stallAfterMs: 1_000 });
    expect((await fetch(`http://127.0.0.1:${server.port}/jobs`)).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${server.port}/healthz`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});
