import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport, StatusReport } from "../../../pipelines/src/migrate/engine.js";
import { removeTree, tempTree } from "../../helpers/repo.js";
import { freePort, migrationsRows, schemaSnapshot, serverForTests } from "./postgres.js";
import { migrate, migrateProcess, REPO } from "./harness.js";

const FIXTURES = join(REPO, "test", "fixtures", "migrate");
const FAIL_THIRD = join(FIXTURES, "fail-third", "data-source.mjs");
const SLOW = join(FIXTURES, "slow", "data-source.mjs");
const DESTRUCTIVE = join(FIXTURES, "destructive", "data-source.cjs");
const FAIL_THIRD_NAMES = ["CreateAuthor1700000000001", "CreateBook1700000000002", "AddAuthorEmail1700000000003", "AddBookIsbn1700000000004", "CreateShelf1700000000005"];
const SLOW_NAMES = ["CreateJob1700000000101", "ArchiveJobs1700000000102", "AddJobState1700000000103"];

const { server } = await serverForTests();
// A compiled DataSource outside any package: no node_modules/typeorm above it.
const OUTSIDE = tempTree({ "data-source.mjs": `import { DataSource } from "typeorm";\nexport default new DataSource({ type: "postgres" });\n` });
afterAll(async () => {
  removeTree(OUTSIDE);
  await server?.stop();
});

let databases = 0;
async function freshDatabase(): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
  const url = await (server as NonNullable<typeof server>).database(`m${++databases}`);
  return { url, env: { ...process.env, DATABASE_URL: url } };
}

function json<T>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

describe.skipIf(!server)("pipelines/src/migrate (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;

  describe("a run whose third of five migrations fails", () => {
    it.each([
      ["each", []],
      ["all", []],
      // none: the failed migration's CREATE TABLE ran outside a transaction; compensation drops it.
      ["none", [`DROP TABLE "public"."audit"`]],
    ] as const)("transaction %s: reverts what it applied, newest first, and leaves schema and migrations table as they were", async (mode, compensated) => {
      const { url, env } = await freshDatabase();
      // The database of an earlier release: an unrelated table with rows, and TypeORM's (empty) migrations table.
      await pg.query(url, `CREATE TABLE "legacy" ("id" integer PRIMARY KEY, "note" text NOT NULL); INSERT INTO "legacy" VALUES (1, 'keep me')`);
      expect((await migrate(["migrate", "run", "--data-source", FAIL_THIRD, "--count", "1"], env)).code).toBe(0);
      // CreateAuthor's up() inserts rows, so its down() destroys data: allowed explicitly (issue 12).
      expect((await migrate(["migrate", "revert", "--data-source", FAIL_THIRD, "--count", "1", "--allow-destructive-revert"], env)).code).toBe(0);
      const schemaBefore = await schemaSnapshot(pg, url);
      const rowsBefore = await migrationsRows(pg, url);
      expect(schemaBefore).toContain("relation migrations r");
      expect(rowsBefore).toEqual([]);

      const result = await migrate(["migrate", "run", "--data-source", FAIL_THIRD, "--transaction", mode, "--json"], env);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`SLIPWAY_MIGRATE_FAILED: migration "AddAuthorEmail1700000000003" failed: column "email" of relation "author" contains null values (SQLSTATE 23502)`);
      expect(result.stderr).toContain("The database is as it was before the run.");
      const report = json<RunReport>(result.stdout);
      expect(report).toMatchObject({
        action: "run",
        status: "failed",
        transaction: mode,
        planned: FAIL_THIRD_NAMES,
        applied: [],
        // each, none: undone by down(), newest first (book references author, so the order matters); all: rolled back.
        reverted: ["CreateBook1700000000002", "CreateAuthor1700000000001"],
        compensated,
        residue: [],
        compensationStopped: null,
        clean: true,
        revertFailure: null,
        failure: { migration: "AddAuthorEmail1700000000003", phase: "up" },
        final: { applied: [], pending: FAIL_THIRD_NAMES, unknownApplied: [] },
      });
      expect(report.failure?.statements.map((s) => s.ok)).toEqual([true, false]);
      expect(await schemaSnapshot(pg, url)).toEqual(schemaBefore);
      expect(await migrationsRows(pg, url)).toEqual(rowsBefore);
      expect(await pg.query(url, `SELECT note FROM legacy`)).toEqual([{ note: "keep me" }]);
      // Nothing is left half-applied, so status reports no interruption.
      expect(json<StatusReport>((await migrate(["migrate", "status", "--data-source", FAIL_THIRD, "--json"], env)).stdout).interrupted).toBeNull();
    });

    it("transaction none, human output: says what it undid and that nothing stays applied", async () => {
      const { env } = await freshDatabase();
      const result = await migrate(["migrate", "run", "--data-source", FAIL_THIRD, "--transaction", "none"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        [
          `FAILED: AddAuthorEmail1700000000003 up(): column "email" of relation "author" contains null values (SQLSTATE 23502)`,
          "undid 1 statement(s) of AddAuthorEmail1700000000003 that ran outside a transaction, newest first:",
          `  DROP TABLE "public"."audit"`,
          "reverted what this run applied, newest first: CreateBook1700000000002, CreateAuthor1700000000001",
          "now: 0 applied, 5 pending",
        ].join("\n"),
      );
      expect(result.stdout).not.toContain("left applied");
      expect(result.stderr).toContain("Undid 1 statement(s) it had run outside a transaction (see `compensated` in the report).");
    });
  });

  it("run, status, revert --to, run again: the schema comes back identical", async () => {
    const { url, env } = await freshDatabase();
    const first = await migrate(["migrate", "run", "--data-source", SLOW], env);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain(`applied 3: ${SLOW_NAMES.join(", ")}`);
    const migrated = await schemaSnapshot(pg, url);

    const status = json<StatusReport>((await migrate(["migrate", "status", "--data-source", SLOW, "--json"], env)).stdout);
    expect(status.applied.map((m) => m.name)).toEqual(SLOW_NAMES);
    expect(status).toMatchObject({ pending: [], unknownApplied: [], newerReleaseRan: false, interrupted: null, lock: { supported: true, holders: [] } });

    const reverted = await migrate(["migrate", "revert", "--data-source", SLOW, "--to", SLOW_NAMES[0] as string, "--json"], env);
    expect(reverted.code).toBe(0);
    expect(json<RunReport>(reverted.stdout)).toMatchObject({ status: "reverted", reverted: [SLOW_NAMES[2], SLOW_NAMES[1]] });
    expect(await pg.query(url, `SELECT to_regclass('job_archive') AS t`)).toEqual([{ t: null }]);
    const text = (await migrate(["migrate", "status", "--data-source", SLOW], env)).stdout;
    expect(text).toContain(`applied (1):\n  [x] ${SLOW_NAMES[0]}\npending (2):\n  [ ] ${SLOW_NAMES[1]}\n  [ ] ${SLOW_NAMES[2]}\n`);

    const again = await migrate(["migrate", "run", "--data-source", SLOW, "--json"], env);
    expect(json<RunReport>(again.stdout)).toMatchObject({ status: "applied", applied: SLOW_NAMES.slice(1) });
    expect(await schemaSnapshot(pg, url)).toEqual(migrated);
    const nothing = await migrate(["migrate", "run", "--data-source", SLOW], env);
    expect(nothing).toMatchObject({ code: 0 });
    expect(nothing.stdout).toContain("nothing pending");
  });

  it("status tells when the database has migrations this code does not know, and revert refuses to touch them", async () => {
    const { url, env } = await freshDatabase();
    await migrate(["migrate", "run", "--data-source", SLOW], env);
    await pg.query(url, `INSERT INTO migrations ("timestamp", name) VALUES (1800000000000, 'FromANewerRelease1800000000000')`);
    const status = await migrate(["migrate", "status", "--data-source", SLOW], env);
    expect(status.stdout).toContain("1 migration(s) this code does not know (a newer release ran here): FromANewerRelease1800000000000");
    expect(json<StatusReport>((await migrate(["migrate", "status", "--data-source", SLOW, "--json"], env)).stdout)).toMatchObject({
      newerReleaseRan: true,
      unknownApplied: ["FromANewerRelease1800000000000"],
    });
    const rows = await migrationsRows(pg, url);
    const refused = await migrate(["migrate", "revert", "--data-source", SLOW, "--count", "2"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`SLIPWAY_MIGRATE_UNKNOWN_APPLIED: cannot revert "FromANewerRelease1800000000000"`);
    expect(await migrationsRows(pg, url)).toEqual(rows);
  });

  it("a failing down() stops revert with a clear error; what it reverted before stays reverted", async () => {
    const { url, env } = await freshDatabase();
    await migrate(["migrate", "run", "--data-source", SLOW], env);
    // Sabotage ArchiveJobs' down(): its table is gone, so DROP TABLE fails.
    await pg.query(url, `DROP TABLE job_archive`);
    // The check before the revert tries every down() and finds it: nothing is reverted (issue 12).
    const checked = await migrate(["migrate", "revert", "--data-source", SLOW, "--count", "3"], env);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(`ArchiveJobs1700000000102: down() BLOCKS: its down() failed in a rolled-back transaction: table "job_archive" does not exist (SQLSTATE 42P01)`);
    expect((await migrationsRows(pg, url)).length).toBe(3);
    // Forced past the check, the revert itself stops there.
    const result = await migrate(["migrate", "revert", "--data-source", SLOW, "--count", "3", "--allow-destructive-revert", "--json"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_REVERT_FAILED: down() of migration "ArchiveJobs1700000000102" failed: table "job_archive" does not exist (SQLSTATE 42P01)`);
    expect(result.stderr).toContain("Reverted before the failure, newest first: AddJobState1700000000103.");
    expect(result.stderr).toContain("Still applied, newest first: ArchiveJobs1700000000102, CreateJob1700000000101.");
    expect(json<RunReport>(result.stdout).final.applied.map((m) => m.name)).toEqual(SLOW_NAMES.slice(0, 2));
  });

  describe("destructive statements in pending migrations", () => {
    it("are reported from the SQL each up() issued in a rolled-back trial, which leaves nothing behind", async () => {
      const { url, env } = await freshDatabase();
      const schemaBefore = await schemaSnapshot(pg, url);
      const result = await migrate(["migrate", "run", "--data-source", DESTRUCTIVE, "--dry-run", "--json"], env);
      expect(result.code).toBe(0);
      const report = json<RunReport>(result.stdout);
      expect(report.status).toBe("dry-run");
      expect(report.safety?.findings.map((f) => [f.migration, f.kind, f.table, f.column ?? null])).toEqual([
        ["Contract1700000000202", "drop-column", "customer", "legacy"],
        ["Contract1700000000202", "drop-column", "customer", "nickname"], // via queryRunner.dropColumn()
        ["Contract1700000000202", "type-change", "customer", "age"],
        ["Contract1700000000202", "rename-column", "customer", "phone"],
        ["Contract1700000000202", "rename-table", "note", null],
        ["Contract1700000000202", "drop-table", "old_log", null],
        ["RequireTier1700000000203", "not-null-on-filled-table", "customer", "tier"],
      ]);
      expect(report.safety?.trialFailures).toEqual([
        { migration: "RequireTier1700000000203", error: `column "tier" of relation "customer" contains null values (SQLSTATE 23502)` },
      ]);
      expect(report.safety?.analysed).toEqual(["Base1700000000201", "Contract1700000000202"]);
      expect(await schemaSnapshot(pg, url)).toEqual(schemaBefore);
      expect(await migrationsRows(pg, url)).toEqual([]);
      const text = await migrate(["migrate", "run", "--data-source", DESTRUCTIVE, "--dry-run"], env);
      expect(text.stdout).toContain(`warning: destructive: Contract1700000000202: drops table old_log  [DROP TABLE "old_log"]`);
    });

    it("with `migrate.destructive: block` stop the run before anything is applied", async () => {
      const { url, env } = await freshDatabase();
      await migrate(["migrate", "run", "--data-source", DESTRUCTIVE, "--to", "Base1700000000201"], env);
      const schemaBefore = await schemaSnapshot(pg, url);
      const rowsBefore = await migrationsRows(pg, url);
      const repo = tempTree({ "slipway.yaml": "migrate:\n  destructive: block\n" });
      try {
        const result = await migrate(["migrate", "run", "--data-source", DESTRUCTIVE, "--source", repo], env);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("SLIPWAY_MIGRATE_DESTRUCTIVE: 8 destructive statements in pending migrations; `migrate.destructive: block` stops the run");
        expect(result.stderr).toContain("Contract1700000000202: renames column customer.phone");
        expect(result.stdout).toContain("blocked: nothing applied (2 pending)");
        expect(await schemaSnapshot(pg, url)).toEqual(schemaBefore);
        expect(await migrationsRows(pg, url)).toEqual(rowsBefore);
      } finally {
        removeTree(repo);
      }
    });
  });

  it("uses the DataSource's own connection options when DATABASE_URL is not set (real process)", async () => {
    const { url } = await freshDatabase();
    const database = new URL(url).pathname.slice(1);
    const { DATABASE_URL: _unset, ...base } = process.env;
    const env = { ...base, FIXTURE_PG_HOST: "127.0.0.1", FIXTURE_PG_PORT: String(pg.port), FIXTURE_PG_PASSWORD: pg.password, FIXTURE_PG_DATABASE: database };
    const result = await migrateProcess(["migrate", "run", "--data-source", join(FIXTURES, "own-options", "data-source.mjs")], env).done;
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`database: postgres 127.0.0.1:${pg.port}/${database}`);
    expect(result.stdout).toContain("applied 1: CreateThing1700000000301");
    expect(await pg.query(url, `SELECT to_regclass('thing')::text AS t`)).toEqual([{ t: "thing" }]);
  });

  describe("bad input: a clear error, exit 2, nothing changed", () => {
    it.each([
      ["a DataSource path that does not exist", join(FIXTURES, "nope", "data-source.js"), `SLIPWAY_MIGRATE_DATA_SOURCE_NOT_FOUND: DataSource file "${join(FIXTURES, "nope", "data-source.js")}" does not exist`],
      ["a module without a DataSource", join(FIXTURES, "bad", "no-data-source.mjs"), `does not export a TypeORM DataSource (exports: "default", "options")`],
      ["a module with two DataSources", join(FIXTURES, "bad", "two-data-sources.mjs"), `exports 2 different DataSource instances ("primary", "replica")`],
      ["a module that throws", join(FIXTURES, "bad", "throws.mjs"), "could not be loaded: config service unavailable"],
      ["a file outside any package with typeorm", join(OUTSIDE, "data-source.mjs"), `SLIPWAY_MIGRATE_TYPEORM_NOT_FOUND: no "typeorm" package can be resolved from "${join(OUTSIDE, "data-source.mjs")}"`],
    ])("%s", async (_name, path, expected) => {
      const { url, env } = await freshDatabase();
      const result = await migrate(["migrate", "run", "--data-source", path], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(expected);
      expect(await pg.query(url, `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`)).toEqual([{ n: 0 }]);
    });

    it("an unreachable database: names host and port, never the password", async () => {
      const port = await freePort();
      const env = { ...process.env, DATABASE_URL: `postgres://deploy:Hunter2-S3cret@127.0.0.1:${port}/app` };
      const result = await migrate(["migrate", "status", "--data-source", SLOW], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`SLIPWAY_MIGRATE_DB_UNREACHABLE: cannot connect to the database at postgres 127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(result.stderr + result.stdout).not.toContain("Hunter2-S3cret");
    });

    it("a wrong password: the server's refusal, never the password", async () => {
      const { url } = await freshDatabase();
      const wrong = new URL(url);
      wrong.password = "Wr0ng-Passw0rd-xyz";
      const result = await migrate(["migrate", "run", "--data-source", SLOW], { ...process.env, DATABASE_URL: wrong.toString() });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`SLIPWAY_MIGRATE_DB_UNREACHABLE: cannot connect to the database at postgres 127.0.0.1:${pg.port}/${wrong.pathname.slice(1)}: password authentication failed for user "postgres"`);
      expect(result.stderr + result.stdout).not.toContain("Wr0ng-Passw0rd-xyz");
      expect(result.stderr + result.stdout).not.toContain(pg.password);
    });

    it.each([
      ["run", ["--to", "NoSuchMigration1700000000999"]],
      ["revert", ["--to", "NoSuchMigration1700000000999"]],
    ])("%s --to naming an unknown migration", async (action, flags) => {
      const { url, env } = await freshDatabase();
      await migrate(["migrate", "run", "--data-source", SLOW, "--count", "1"], env);
      const rows = await migrationsRows(pg, url);
      const schema = await schemaSnapshot(pg, url);
      const result = await migrate(["migrate", action as string, "--data-source", SLOW, ...flags], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`SLIPWAY_MIGRATE_UNKNOWN_MIGRATION: --to "NoSuchMigration1700000000999" names no migration of this DataSource`);
      expect(result.stderr).toContain(`Migrations: ${SLOW_NAMES.join(", ")}.`);
      expect(await migrationsRows(pg, url)).toEqual(rows);
      expect(await schemaSnapshot(pg, url)).toEqual(schema);
    });

    it("revert --to a migration that is not applied", async () => {
      const { env } = await freshDatabase();
      await migrate(["migrate", "run", "--data-source", SLOW, "--count", "1"], env);
      const result = await migrate(["migrate", "revert", "--data-source", SLOW, "--to", SLOW_NAMES[2] as string], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`SLIPWAY_MIGRATE_TARGET_NOT_APPLIED: --to "${SLOW_NAMES[2]}" is not applied in this database`);
    });

    it.each([
      [["migrate", "run"], "--data-source or --service is required"],
      [["migrate", "run", "--service", ""], "--service needs a service name"],
      [["migrate", "revert", "--data-source", SLOW], "revert needs --to NAME or --count N"],
      [["migrate", "run", "--data-source", SLOW, "--to", "a", "--count", "1"], "--to and --count cannot be used together"],
      [["migrate", "run", "--data-source", SLOW, "--count", "0"], `--count "0" is not a positive whole number`],
      [["migrate", "run", "--data-source", SLOW, "--transaction", "some"], `--transaction "some" is not one of all, each, none`],
      [["migrate", "run", "--data-source", SLOW, "--lock-timeout", "soon"], `--lock-timeout "soon" is not a number of seconds between 0 and 3600`],
      [["migrate", "status", "--data-source", SLOW, "--to", "x"], "unknown flag --to for `slipway migrate status`"],
    ])("usage: %j", async (argv, expected) => {
      const result = await migrate(argv, { ...process.env, DATABASE_URL: "postgres://u:p@127.0.0.1:1/x" });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`SLIPWAY_USAGE: ${expected}`);
    });

    it("an invalid migrate: section in slipway.yaml", async () => {
      const repo = tempTree({ "slipway.yaml": "migrate:\n  transaction: sometimes\n  lockTimeout: -1\n" });
      try {
        const result = await migrate(["migrate", "run", "--data-source", SLOW, "--source", repo], { ...process.env, DATABASE_URL: "postgres://u:p@127.0.0.1:1/x" });
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("SLIPWAY_CONFIG_INVALID");
        expect(result.stderr).toContain("migrate.transaction:");
        expect(result.stderr).toContain("migrate.lockTimeout:");
      } finally {
        removeTree(repo);
      }
    });
  });
});
