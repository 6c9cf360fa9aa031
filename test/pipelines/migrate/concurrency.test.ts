import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport, StatusReport } from "../../../pipelines/src/migrate/engine.js";
import { migrate, migrateProcess, REPO } from "./harness.js";
import pg from "pg";
import { advisoryKey, lockName } from "../../../pipelines/src/migrate/lock.js";
import { migrationsRows, serverForTests } from "./postgres.js";

const SLOW = join(REPO, "test", "fixtures", "migrate", "slow", "data-source.mjs");
const NAMES = ["CreateJob1700000000101", "ArchiveJobs1700000000102", "AddJobState1700000000103"];

const { server } = await serverForTests();
afterAll(async () => {
  await server?.stop();
});

/** Polls until `check` is true (bounded), for states another process creates. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.skipIf(!server)("pipelines/src/migrate lock and interrupted runs (PostgreSQL, real processes)", () => {
  const db = server as NonNullable<typeof server>;
  let n = 0;
  async function database(): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
    const url = await db.database(`c${++n}`);
    return { url, env: { ...process.env, DATABASE_URL: url } };
  }
  const lockHeld = (url: string) => async () =>
    (await db.query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`))[0]?.n === 1;

  it("two concurrent runs: one applies, the other waits for the lock and then finds nothing pending", async () => {
    const { url, env } = await database();
    const key = advisoryKey(lockName("migrations")).toString();
    // Hold the lock first so that both runs are certainly waiting on it, whatever their start-up time.
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    await gate.query("SELECT pg_advisory_lock($1::bigint)", [key]);
    const slow = { ...env, FIXTURE_SLEEP: "1" };
    const first = migrateProcess(["migrate", "run", "--data-source", SLOW, "--json", "--lock-timeout", "120"], slow);
    const second = migrateProcess(["migrate", "run", "--data-source", SLOW, "--json", "--lock-timeout", "120"], slow);
    try {
      await until(
        "both runs to poll for the lock",
        async () =>
          (await db.query<{ n: number }>(url, `SELECT count(DISTINCT pid)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_try_advisory_lock%' AND pid <> pg_backend_pid()`))[0]?.n === 2,
        60_000,
      );
    } finally {
      await gate.end();
    }
    // While one run works, status shows who holds the lock.
    await until("a run to take the lock", lockHeld(url));
    const during = JSON.parse((await migrate(["migrate", "status", "--data-source", SLOW, "--json"], env)).stdout) as StatusReport;
    expect(during.lock.holders.length).toBeLessThanOrEqual(1);
    const results = await Promise.all([first.done, second.done]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const reports = results.map((r) => JSON.parse(r.stdout) as RunReport).sort((a, b) => a.status.localeCompare(b.status));
    expect(reports.map((r) => [r.status, r.applied])).toEqual([
      ["applied", NAMES],
      ["nothing-to-do", []],
    ]);
    expect((await migrationsRows(db, url)).map((r) => r.split(" ")[2])).toEqual(NAMES);
  });

  it("a run that cannot get the lock in time fails clearly (exit 3) and applies nothing", async () => {
    const { url, env } = await database();
    // Another run, as far as the database can tell: a session holding the same advisory lock.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query("SELECT pg_advisory_lock($1::bigint)", [advisoryKey(lockName("migrations")).toString()]);
      const started = Date.now();
      const result = await migrate(["migrate", "run", "--data-source", SLOW, "--lock-timeout", "1"], env);
      expect(result.code).toBe(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(result.stderr).toContain(`SLIPWAY_MIGRATE_LOCK_TIMEOUT: another migration run holds the migration lock on postgres 127.0.0.1:${db.port}/c${n}; gave up after 1s`);
      expect(result.stdout).toBe("");
      expect(await migrationsRows(db, url)).toEqual([]);
    } finally {
      await other.end();
    }
    // The lock is free again: the same run now applies.
    expect((await migrate(["migrate", "run", "--data-source", SLOW, "--lock-timeout", "1"], env)).code).toBe(0);
  });

  it("a run killed mid-migration (transaction none): status says a run holds the lock, then that the migration was interrupted", async () => {
    const { url, env } = await database();
    const run = migrateProcess(["migrate", "run", "--data-source", SLOW, "--transaction", "none"], { ...env, FIXTURE_SLEEP_NO_TX: "3" });
    // ArchiveJobs commits its first statement (no transaction), then sleeps: kill it there.
    await until("ArchiveJobs to start", async () => (await db.query<{ t: string | null }>(url, `SELECT to_regclass('job_archive')::text AS t`))[0]?.t === "job_archive");
    await until("ArchiveJobs to sleep", async () => (await db.query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'`))[0]?.n === 1);
    run.kill("SIGKILL");
    expect((await run.done).code).not.toBe(0);

    // The server still runs the killed client's statement, so its session still holds the lock.
    const status = async () => JSON.parse((await migrate(["migrate", "status", "--data-source", SLOW, "--json"], env)).stdout) as StatusReport;
    const right = await status();
    expect(right.applied.map((m) => m.name)).toEqual(NAMES.slice(0, 1));
    expect(right.pending).toEqual(NAMES.slice(1));
    expect(right.lock.holders).toMatchObject([{ application: "slipway migrate" }]);
    expect(right.interrupted).toBeNull();

    // Once the server notices the client is gone, the lock is free and the interruption shows.
    await until("the orphaned session to end", async () => (await status()).lock.holders.length === 0);
    const later = await status();
    expect(later.interrupted).toMatchObject({ migration: "ArchiveJobs1700000000102", state: "running" });
    expect(later.applied.map((m) => m.name)).toEqual(NAMES.slice(0, 1));
    const text = (await migrate(["migrate", "status", "--data-source", SLOW], env)).stdout;
    expect(text).toContain("lock: free (no run in progress)");
    expect(text).toContain("interrupted: ArchiveJobs1700000000102 started outside a transaction at");
    expect(text).toContain("part of it may be");
  });
});
