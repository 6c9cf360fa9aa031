import { describe, expect, it } from "vitest";
import { classifySql, isPlainIdentifier } from "../../../pipelines/src/migrate/destructive.js";

describe("pipelines/src/migrate/destructive", () => {
  it.each([
    // PostgreSQL, as TypeORM generates it
    [`DROP TABLE "user"`, [{ kind: "drop-table", table: "user" }]],
    [`DROP TABLE IF EXISTS "public"."a", b CASCADE`, [{ kind: "drop-table", table: "a" }, { kind: "drop-table", table: "b" }]],
    [`ALTER TABLE "user" DROP COLUMN "age"`, [{ kind: "drop-column", table: "user", column: "age" }]],
    [`ALTER TABLE ONLY public.t DROP IF EXISTS c`, [{ kind: "drop-column", table: "t", column: "c" }]],
    [`ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint USING "c"::bigint`, [{ kind: "type-change", table: "t", column: "c" }]],
    [`ALTER TABLE t ALTER c SET DATA TYPE text`, [{ kind: "type-change", table: "t", column: "c" }]],
    [`ALTER TABLE "t" RENAME COLUMN "a" TO "b"`, [{ kind: "rename-column", table: "t", column: "a" }]],
    [`ALTER TABLE "t" RENAME TO "u"`, [{ kind: "rename-table", table: "t" }]],
    [`ALTER TABLE "t" ALTER COLUMN "c" SET NOT NULL`, [{ kind: "not-null-on-filled-table", table: "t", column: "c", needsRows: true }]],
    [`ALTER TABLE "t" ADD "c" character varying NOT NULL`, [{ kind: "not-null-on-filled-table", table: "t", column: "c", needsRows: true }]],
    [`ALTER TABLE t DROP COLUMN a, ADD COLUMN b int, ALTER COLUMN d TYPE text`, [
      { kind: "drop-column", table: "t", column: "a" },
      { kind: "type-change", table: "t", column: "d" },
    ]],
    // MySQL
    ["ALTER TABLE `t` MODIFY `c` bigint NOT NULL", [{ kind: "type-change", table: "t", column: "c" }]],
    ["ALTER TABLE `t` CHANGE `a` `b` varchar(10)", [{ kind: "rename-column", table: "t", column: "a" }, { kind: "type-change", table: "t", column: "a" }]],
    ["RENAME TABLE `a` TO `b`", [{ kind: "rename-table", table: "a" }]],
    // several statements in one query
    [`CREATE TABLE x (id int); DROP TABLE y;`, [{ kind: "drop-table", table: "y" }]],
  ])("flags %s", (sql, expected) => {
    expect(classifySql(sql).map(({ rawTable: _raw, ...f }) => f)).toEqual(expected);
  });

  it.each([
    `ALTER TABLE "t" ADD "c" integer NOT NULL DEFAULT 0`,
    `ALTER TABLE "t" ADD "id" SERIAL NOT NULL`,
    `ALTER TABLE "t" ADD "c" integer GENERATED ALWAYS AS IDENTITY NOT NULL`,
    `ALTER TABLE "t" ADD "c" text`,
    `ALTER TABLE "t" DROP CONSTRAINT "FK_1"`,
    `ALTER TABLE "t" ALTER COLUMN "c" DROP DEFAULT`,
    `ALTER TABLE "t" ALTER COLUMN "c" DROP NOT NULL`,
    `ALTER TABLE "t" RENAME CONSTRAINT "a" TO "b"`,
    `ALTER TABLE "t" ADD CONSTRAINT "c" UNIQUE ("x")`,
    "ALTER TABLE `t` DROP INDEX `i`, DROP FOREIGN KEY `f`, DROP PRIMARY KEY",
    `DROP INDEX "IDX_1"`,
    `-- DROP TABLE users\nCREATE INDEX i ON t (c)`,
    `/* ALTER TABLE t DROP COLUMN c */ SELECT 1`,
    `INSERT INTO log (msg) VALUES ('DROP TABLE users; ALTER TABLE t DROP COLUMN c')`,
    `CREATE FUNCTION f() RETURNS void AS $$ BEGIN DROP TABLE t; END $$ LANGUAGE plpgsql`,
    `SELECT "DROP TABLE" FROM t`,
  ])("does not flag %s", (sql) => {
    expect(classifySql(sql)).toEqual([]);
  });

  it("keeps the table as written, for the row probe, and only accepts plain identifiers there", () => {
    expect(classifySql(`ALTER TABLE "public"."order" ALTER COLUMN "c" SET NOT NULL`)[0]?.rawTable).toBe(`"public"."order"`);
    expect(isPlainIdentifier(`"public"."order"`)).toBe(true);
    expect(isPlainIdentifier("`shop`.`order`")).toBe(true);
    expect(isPlainIdentifier(`t; DROP TABLE x`)).toBe(false);
    expect(isPlainIdentifier(`"a" "b"`)).toBe(false);
  });
});
