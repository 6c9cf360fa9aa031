import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

describe("services/api/src/config", () => {
  it("applies defaults when only DATABASE_URL is set", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://app@db:5432/shop" })).toEqual({
      ok: true,
      config: { port: 8080, databaseUrl: "postgres://app@db:5432/shop", drainDelayMs: 0, shutdownTimeoutMs: 10_000 },
    });
  });

  it("reads every variable", () => {
    const loaded = loadConfig({
      DATABASE_URL: "postgresql://app@db/shop",
      PORT: "3000",
      DRAIN_DELAY_MS: "5000",
      SHUTDOWN_TIMEOUT_MS: "20000",
    });
    expect(loaded).toEqual({
      ok: true,
      config: { port: 3000, databaseUrl: "postgresql://app@db/shop", drainDelayMs: 5000, shutdownTimeoutMs: 20_000 },
    });
  });

  it("reports every problem at once", () => {
    const loaded = loadConfig({ PORT: "http", SHUTDOWN_TIMEOUT_MS: "-1" });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) {
      expect(loaded.problems.map((problem) => problem.split(":")[0])).toEqual(["PORT", "DATABASE_URL", "SHUTDOWN_TIMEOUT_MS"]);
      expect(loaded.problems[1]).toBe("DATABASE_URL: DATABASE_URL is required");
    }
  });

  it("never repeats the password of a wrong DATABASE_URL", () => {
    const loaded = loadConfig({ DATABASE_URL: "mysql://app:s3cr3t-pw@db/shop" });
    expect(loaded).toEqual({ ok: false, problems: ["DATABASE_URL: DATABASE_URL must be a postgres:// or postgresql:// URL"] });
    expect(JSON.stringify(loaded)).not.toContain("s3cr3t-pw");
  });
});
