import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

describe("services/worker/src/config", () => {
  it("applies defaults when only DATABASE_URL is set", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://worker@db/shop" })).toEqual({
      ok: true,
      config: {
        databaseUrl: "postgres://worker@db/shop",
        port: 8080,
        queue: "default",
        concurrency: 2,
        pollIntervalMs: 1_000,
        leaseMs: 60_000,
        backoff: { baseMs: 1_000, maxMs: 300_000 },
        shutdownTimeoutMs: 25_000,
      },
    });
  });

  it("reports every problem at once, naming the variable and never its value", () => {
    const loaded = loadConfig({ DATABASE_URL: "mysql://w:hunter2@db/x", WORKER_CONCURRENCY: "0", LEASE_MS: "soon" });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) {
      expect(loaded.problems.map((problem) => problem.split(":")[0])).toEqual(["DATABASE_URL", "WORKER_CONCURRENCY", "LEASE_MS"]);
      expect(loaded.problems.join("\n")).not.toContain("hunter2");
    }
  });

  it("refuses a retry ceiling below the base delay", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://db/x", RETRY_BASE_MS: "5000", RETRY_MAX_MS: "1000" })).toEqual({
      ok: false,
      problems: ["RETRY_MAX_MS: RETRY_MAX_MS must not be below RETRY_BASE_MS"],
    });
  });
});
