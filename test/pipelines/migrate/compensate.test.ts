import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { statementsOf, type Undo } from "../../../pipelines/src/migrate/compensate.js";
import type { RunReport, StatusReport } from "../../../pipelines/src/migrate/engine.js";
import { migrate, REPO } from "./harness.js";
import { migrationsRows, schemaSnapshot, serverForTests } from "./postgres.js";

const FIXTURES = join(REPO, "test", "fixtures", "migrate", "compensate");
const BASE = "CreateLibrary1700000000401";

/** The undo of one statement, without the parts tests do not need to spell out. */
function undo(sql: string): Undo {
  const [first, ...more] = statementsOf(sql);
  expect(more).toEqual([]);
  return (first as { undo: Undo }).undo;
}

describe("pipelines/src/migrate/compensate: what undoes a statement", () => {
  it.each([
    [`CREATE TABLE "Audit" ("id" int)`, { kind: "drop", object: "table", name: { raw: `"Audit"`, last: `"Audit"`, folded: "Audit" }, temp: false, concurrently: false, guard: "none" }],
    [`create temp table if not exists s.T as select 1`, { kind: "drop", object: "table", name: { raw: "s.T", schema: "s", last: "T", folded: "t" }, temp: true, guard: "if-not-exists" }],
    [`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "I" ON ONLY "s"."t" (c)`, { object: "index", name: { folded: "I" }, table: { raw: `"s"."t"`, schema: `"s"` }, concurrently: true, guard: "if-not-exists" }],
    [`CREATE OR REPLACE RECURSIVE VIEW v (n) AS SELECT 1`, { object: "view", guard: "or-replace" }],
    [`CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1 WITH NO DATA`, { object: "materialized view", guard: "if-not-exists" }],
    [`CREATE SCHEMA IF NOT EXISTS reports AUTHORIZATION app`, { object: "schema", name: { folded: "reports" }, guard: "if-not-exists" }],
    [`CREATE SEQUENCE "public"."s" START 10`, { object: "sequence", name: { raw: `"public"."s"` } }],
    [`CREATE TYPE mood AS ENUM ('sad', 'ok')`, { object: "type", name: { folded: "mood" } }],
    [
      `ALTER TABLE IF EXISTS ONLY t ADD COLUMN IF NOT EXISTS c int, ADD d text REFERENCES x (id), ADD CONSTRAINT "k" CHECK (c > 0)`,
      {
        kind: "drop-parts",
        table: { raw: "t" },
        only: true,
        ifExists: true,
        parts: [
          { what: "column", name: { folded: "c" }, ifNotExists: true },
          { what: "column", name: { folded: "d" }, ifNotExists: false },
          { what: "constraint", name: { last: `"k"` }, ifNotExists: false },
        ],
      },
    ],
    [`SELECT * FROM "information_schema"."tables" WHERE "table_name" = 'x'`, { kind: "read" }],
    [`SHOW server_version`, { kind: "read" }],
  ])("%s", (sql, expected) => {
    expect(undo(sql)).toMatchObject(expected);
  });

  it.each([
    [`UPDATE "legacy" SET "note" = upper("note")`, "UPDATE changes rows; which rows, and what they held before, is not known"],
    [`INSERT INTO t VALUES (1)`, "INSERT changes rows; which rows, and what they held before, is not known"],
    [`DROP TABLE "t"`, "DROP removed an object whose definition and data are not known"],
    [`ALTER TABLE t ALTER COLUMN c TYPE bigint`, "ALTER TABLE … ALTER COLUMN cannot be undone from the statement alone"],
    [`ALTER TABLE t RENAME TO u`, "ALTER TABLE … RENAME TO cannot be undone from the statement alone"],
    [`ALTER TABLE t ADD COLUMN c int, DROP COLUMN d`, "ALTER TABLE … DROP COLUMN cannot be undone from the statement alone"],
    [`ALTER TABLE t ADD PRIMARY KEY (id)`, "the constraint has no name in the statement, so it cannot be identified for sure"],
    [`ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX i`, "it made an existing index into a constraint; dropping the constraint would drop that index"],
    [`CREATE INDEX ON t (c)`, "the index has no name in the statement, so it cannot be identified for sure"],
    [`CREATE SCHEMA AUTHORIZATION app`, "the schema is named after its owner, not in the statement"],
    [`CREATE SCHEMA s CREATE TABLE t (id int)`, "it also creates objects inside the new schema"],
    [`CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql`, "Slipway does not know how to undo CREATE OR REPLACE FUNCTION"],
    [`CREATE FOREIGN TABLE f () SERVER s`, "Slipway does not know how to undo CREATE FOREIGN TABLE"],
    [`COMMENT ON TABLE t IS 'x'`, "Slipway does not know how to undo COMMENT ON TABLE"],
    [`SELECT nextval('s')`, "a call of nextval() changes the database"],
    [`SELECT * INTO t2 FROM t`, "SELECT … INTO changes the database"],
  ])("stops at %s", (sql, reason) => {
    expect(undo(sql)).toEqual({ kind: "stop", reason });
  });

  it("splits a text of several statements, each with its own text", () => {
    expect(statementsOf(`CREATE TABLE a (id int);\n  UPDATE a SET id = 1; -- done`).map((s) => [s.text, s.undo.kind])).toEqual([
      ["CREATE TABLE a (id int)", "drop"],
      ["UPDATE a SET id = 1", "stop"],
    ]);
  });
});

const { server } = await serverForTests();
afterAll(async () => {
  await server?.stop();
});

// Recognisable, and with characters a URL encodes (":" and "/"), so both spellings are looked for.
const CANARY = "Canary-Pa55:w0rd/7319";

describe.skipIf(!server)("pipelines/src/migrate: a migration that fails outside a transaction is compensated (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;
  let n = 0;

  /**
   * A database of an earlier release: "legacy" with rows (a duplicate and a NULL note, which the
   * fixtures' last statements trip on) and TypeORM's migrations table, empty.
   */
  async function legacyDatabase(extra = ""): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
    const url = await pg.database(`k${++n}`);
    await pg.query(
      url,
      `CREATE TABLE "legacy" ("id" integer PRIMARY KEY, "note" text);
       INSERT INTO "legacy" VALUES (1, 'a'), (2, 'a'), (3, NULL);
       CREATE TABLE "migrations" ("id" SERIAL NOT NULL, "timestamp" bigint NOT NULL, "name" character varying NOT NULL, CONSTRAINT "PK_8c82d7f526340ab734260ea46be" PRIMARY KEY ("id"));
       ${extra}`,
    );
    return { url, env: { ...process.env, DATABASE_URL: url } };
  }

  async function status(data: string, env: NodeJS.ProcessEnv): Promise<StatusReport> {
    return JSON.parse((await migrate(["migrate", "status", "--data-source", data, "--json"], env)).stdout) as StatusReport;
  }

  it("(a) undoes every statement, newest first, the invalid index a failed CREATE INDEX CONCURRENTLY left included: schema and migrations table as before (each, transaction = false)", async () => {
    const data = join(FIXTURES, "full.mjs");
    const { url, env } = await legacyDatabase();
    const schemaBefore = await schemaSnapshot(pg, url);

    const result = await migrate(["migrate", "run", "--data-source", data, "--transaction", "each", "--json"], env);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_FAILED: migration "ExpandLibrary1700000000402" failed: could not create unique index "legacy_note_once" (SQLSTATE 23505): Key (note)=(a) is duplicated.`);
    expect(result.stderr).toContain("Undid 15 statement(s) it had run outside a transaction");
    expect(result.stderr).toContain("The database is as it was before the run.");
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.compensated).toEqual([
      `DROP INDEX CONCURRENTLY "public"."legacy_note_once"`,
      `DROP MATERIALIZED VIEW "public"."library_names"`,
      `DROP VIEW "public"."member_view"`,
      `ALTER TABLE "library" DROP COLUMN "opened"`,
      `ALTER TABLE "legacy" DROP CONSTRAINT "legacy_id_positive"`,
      `ALTER TABLE "legacy" DROP COLUMN "flag"`,
      `ALTER TABLE "library" DROP CONSTRAINT "library_name_key", DROP COLUMN "city"`,
      `DROP TABLE pg_temp."scratch"`,
      `DROP INDEX "public"."member_email_idx"`,
      `DROP TABLE "public"."member"`,
      `DROP INDEX CONCURRENTLY "archive"."loan_kind_idx"`,
      `DROP TABLE "archive"."loan"`,
      `DROP SEQUENCE "public"."ticket_seq"`,
      `DROP TYPE "public"."shelf_kind"`,
      `DROP SCHEMA "archive"`,
    ]);
    expect(report).toMatchObject({ residue: [], preexisting: [], compensationStopped: null, clean: true, applied: [], reverted: [BASE] });
    expect(await schemaSnapshot(pg, url)).toEqual(schemaBefore);
    expect(await migrationsRows(pg, url)).toEqual([]);
    expect(await pg.query(url, `SELECT * FROM "legacy" ORDER BY "id"`)).toEqual([
      { id: 1, note: "a" },
      { id: 2, note: "a" },
      { id: 3, note: null },
    ]);
    expect(await status(data, env)).toMatchObject({ applied: [], pending: [BASE, "ExpandLibrary1700000000402"], interrupted: null });
  });

  it("(b) stops at the first statement it cannot undo (an UPDATE), and reports exactly what stays applied (none)", async () => {
    const data = join(FIXTURES, "stop.mjs");
    const { url, env } = await legacyDatabase();
    const schemaBefore = await schemaSnapshot(pg, url);

    const result = await migrate(["migrate", "run", "--data-source", data, "--transaction", "none", "--json"], env);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Could not undo \`UPDATE "legacy" SET "note" = upper("note")\`: UPDATE changes rows; which rows, and what they held before, is not known.`);
    expect(result.stderr).toContain(`2 statement(s) of "AddReaders1700000000403" stay applied`);
    expect(result.stderr).toContain("The database is NOT as it was before the run");
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report).toMatchObject({
      compensated: [`DROP INDEX "public"."reader_log_reader_idx"`, `DROP TABLE "public"."reader_log"`],
      residue: [`CREATE TABLE "reader" ("id" SERIAL PRIMARY KEY, "name" text)`, `UPDATE "legacy" SET "note" = upper("note")`],
      compensationStopped: { statement: `UPDATE "legacy" SET "note" = upper("note")`, reason: "UPDATE changes rows; which rows, and what they held before, is not known" },
      preexisting: [],
      clean: false,
      // The migrations this run applied are reverted all the same.
      reverted: [BASE],
      final: { applied: [], pending: [BASE, "AddReaders1700000000403"] },
    });
    // The schema differs by exactly the residue's table (with its key and sequence); the UPDATE stays.
    const after = await schemaSnapshot(pg, url);
    const added = after.filter((l) => !schemaBefore.includes(l));
    expect(added).toContain("relation reader r");
    expect(added.every((l) => /\breader\b|reader_(id_seq|pkey)/.test(l) && !/reader_log/.test(l))).toBe(true);
    expect(schemaBefore.filter((l) => !after.includes(l))).toEqual([]);
    expect(await pg.query(url, `SELECT "note" FROM "legacy" ORDER BY "id"`)).toEqual([{ note: "A" }, { note: "A" }, { note: null }]);
    expect(await migrationsRows(pg, url)).toEqual([]);

    expect((await status(data, env)).interrupted).toMatchObject({ migration: "AddReaders1700000000403", state: "partial", statements: 2 });
    const text = await migrate(["migrate", "status", "--data-source", data], env);
    expect(text.stdout).toContain("partially applied: AddReaders1700000000403 failed at");
    expect(text.stdout).toContain("left 2 statement(s) applied");
  });

  it("(c) leaves alone what an IF NOT EXISTS statement found already there, and undoes the rest (none)", async () => {
    const data = join(FIXTURES, "exists.mjs");
    const { url, env } = await legacyDatabase(`CREATE INDEX "legacy_note_idx" ON "legacy" ("note"); CREATE SCHEMA "reports"; CREATE SEQUENCE "legacy_seq"`);
    const schemaBefore = await schemaSnapshot(pg, url);
    expect(schemaBefore).toEqual(expect.arrayContaining(["schema reports", "relation legacy_note_idx i", "sequence legacy_seq"]));

    const result = await migrate(["migrate", "run", "--data-source", data, "--transaction", "none", "--json"], env);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`failed: duplicate key value violates unique constraint "legacy_pkey" (SQLSTATE 23505)`);
    expect(result.stderr).toContain("The database is as it was before the run.");
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report).toMatchObject({
      // Only what did not exist before: the new table in the existing schema, and the one new column.
      compensated: [`DROP TABLE "reports"."daily"`, `ALTER TABLE "legacy" DROP COLUMN "added"`],
      preexisting: [
        `CREATE TABLE IF NOT EXISTS "legacy" ("id" integer PRIMARY KEY, "note" text)`,
        `CREATE INDEX IF NOT EXISTS "legacy_note_idx" ON "legacy" ("note")`,
        `CREATE SCHEMA IF NOT EXISTS "reports"`,
        `CREATE SEQUENCE IF NOT EXISTS "legacy_seq"`,
      ],
      residue: [],
      compensationStopped: null,
      clean: true,
      reverted: [BASE],
    });
    expect(await schemaSnapshot(pg, url)).toEqual(schemaBefore);
    expect(await pg.query(url, `SELECT count(*)::int AS n FROM "legacy"`)).toEqual([{ n: 3 }]);
    expect(await migrationsRows(pg, url)).toEqual([]);
    expect((await status(data, env)).interrupted).toBeNull();
  });

  it("the DATABASE_URL password never shows, though the failed migration put it in its SQL: captured SQL, compensation, residue, JSON, human output, status", async () => {
    const data = join(FIXTURES, "secret.mjs");
    const { url } = await legacyDatabase();
    await pg.query(url, `DO $$ BEGIN CREATE ROLE "deployer" LOGIN SUPERUSER PASSWORD '${CANARY}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    const secretUrl = new URL(url);
    secretUrl.username = "deployer";
    secretUrl.password = encodeURIComponent(CANARY);
    expect(secretUrl.toString()).toContain("Canary-Pa55%3Aw0rd%2F7319");
    const env = { ...process.env, DATABASE_URL: secretUrl.toString() };
    const leaks = (text: string) => [CANARY, encodeURIComponent(CANARY), "Pa55"].filter((s) => text.includes(s));

    const human = await migrate(["migrate", "run", "--data-source", data, "--transaction", "none"], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`undid 1 statement(s) of RotateCanary1700000000405 that ran outside a transaction, newest first:\n  ALTER TABLE "canary" DROP COLUMN "***"\n`);
    expect(human.stdout).toContain(`could not undo COMMENT ON TABLE "canary" IS 'rotated to ***': Slipway does not know how to undo COMMENT ON TABLE`);
    expect(human.stdout).toContain(`left applied (ran outside a transaction): COMMENT ON TABLE "canary" IS 'rotated to ***'`);
    expect(human.stderr).toContain(`failed: invalid input syntax for type integer: "***" (SQLSTATE 22P02)`);
    // The inverse was built from the real SQL: the column is gone, not a column named ***.
    expect(await pg.query(url, `SELECT attname::text AS c FROM pg_attribute WHERE attrelid = 'canary'::regclass AND attnum > 0 AND NOT attisdropped`)).toEqual([{ c: "id" }]);

    await pg.query(url, `DROP TABLE "canary"`);
    const json = await migrate(["migrate", "run", "--data-source", data, "--transaction", "none", "--json"], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as RunReport;
    expect(report.failure?.statements.map((s) => s.sql)).toEqual([
      `CREATE TABLE "canary" ("id" integer)`,
      `COMMENT ON TABLE "canary" IS 'rotated to ***'`,
      `ALTER TABLE "canary" ADD COLUMN "***" text`,
      `SELECT '***'::integer`,
    ]);
    expect(report).toMatchObject({
      compensated: [`ALTER TABLE "canary" DROP COLUMN "***"`],
      residue: [`CREATE TABLE "canary" ("id" integer)`, `COMMENT ON TABLE "canary" IS 'rotated to ***'`],
      failure: { error: `invalid input syntax for type integer: "***" (SQLSTATE 22P02)` },
      database: { user: "deployer" },
    });
    const statusJson = await migrate(["migrate", "status", "--data-source", data, "--json"], env);
    const statusText = await migrate(["migrate", "status", "--data-source", data], env);
    expect(statusText.stdout).toContain("partially applied: RotateCanary1700000000405");
    for (const output of [human.stdout, human.stderr, json.stdout, json.stderr, statusJson.stdout, statusJson.stderr, statusText.stdout, statusText.stderr]) {
      expect(leaks(output)).toEqual([]);
    }
  });
});
