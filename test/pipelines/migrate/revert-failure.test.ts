import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import type { RunReport } from "../../../pipelines/src/migrate/engine.js";
import { compileService } from "./compile.js";
import { migrate } from "./harness.js";
import { migrationsRows, serverForTests } from "./postgres.js";

// Three migrations in typeorm migration:generate's shape; the third fails, and FIXTURE_BAD_DOWN names the
// one whose down() fails while the run reverts itself (a down() that drops a table under a wrong name).
const migration = (name: string, up: string, down: string) => `import { MigrationInterface, QueryRunner } from "typeorm";

export class ${name} implements MigrationInterface {
    name = '${name}'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(\`${up}\`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        if (process.env.FIXTURE_BAD_DOWN === '${name}') await queryRunner.query(\`DROP TABLE "no_such_table"\`);
        await queryRunner.query(\`${down}\`);
    }
}
`;

const service = compileService("commonjs", {
  "src/data-source.ts": `import { DataSource } from "typeorm";
import { CreateA1700000000501 } from "./migrations/1700000000501-CreateA.js";
import { CreateB1700000000502 } from "./migrations/1700000000502-CreateB.js";
import { Broken1700000000503 } from "./migrations/1700000000503-Broken.js";
export const AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations: [CreateA1700000000501, CreateB1700000000502, Broken1700000000503] });\n`,
  "src/migrations/1700000000501-CreateA.ts": migration("CreateA1700000000501", `CREATE TABLE "a" ("id" integer)`, `DROP TABLE "a"`),
  "src/migrations/1700000000502-CreateB.ts": migration("CreateB1700000000502", `CREATE TABLE "b" ("id" integer)`, `DROP TABLE "b"`),
  "src/migrations/1700000000503-Broken.ts": migration("Broken1700000000503", `SELECT * FROM "missing"`, `SELECT 1`),
});

const { server } = await serverForTests();
afterAll(async () => {
  service.remove();
  await server?.stop();
});

describe.skipIf(!server)("pipelines/src/migrate: a failed run whose own revert fails (PostgreSQL)", () => {
  const pg = server as NonNullable<typeof server>;
  let databases = 0;

  it.each([
    // The newest down() fails: nothing of the run is reverted, both stay applied.
    ["CreateB1700000000502", [], ["CreateB1700000000502", "CreateA1700000000501"], "reverted nothing of this run"],
    // The oldest down() fails after the newer one was reverted.
    ["CreateA1700000000501", ["CreateB1700000000502"], ["CreateA1700000000501"], "reverted before the revert failed, newest first: CreateB1700000000502"],
  ] as const)("down() of %s fails: names it and what stays applied", async (bad, reverted, stillApplied, revertedLine) => {
    const url = await pg.database(`revert${++databases}`);
    // The migrations run in this process (the CLI in-process) and read process.env.
    process.env.FIXTURE_BAD_DOWN = bad;
    onTestFinished(() => void delete process.env.FIXTURE_BAD_DOWN);
    const env = { ...process.env, DATABASE_URL: url };
    const file = service.out("src/data-source.ts");

    const result = await migrate(["migrate", "run", "--data-source", file], env);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_FAILED: migration "Broken1700000000503" failed: relation "missing" does not exist (SQLSTATE 42P01)`);
    expect(result.stderr).toContain(`Reverting this run stopped: down() of "${bad}" failed: table "no_such_table" does not exist (SQLSTATE 42P01).`);
    expect(result.stderr).toContain(`Still applied from this run, newest first: ${stillApplied.join(", ")}.`);
    expect(result.stderr).toContain("The database is NOT as it was before the run");
    expect(result.stderr + result.stdout).not.toMatch(/applied nothing else/i);
    expect(result.stdout).toContain(
      [revertedLine, `REVERT FAILED: ${bad} down(): table "no_such_table" does not exist (SQLSTATE 42P01)`, `still applied from this run, newest first: ${stillApplied.join(", ")}`].join("\n"),
    );
    // What the messages say is what the database holds.
    expect((await migrationsRows(pg, url)).map((r) => r.split(" ")[2])).toEqual(stillApplied.slice().reverse());

    const json = JSON.parse((await migrate(["migrate", "run", "--data-source", file, "--json"], { ...env, DATABASE_URL: await pg.database(`revert${++databases}`) })).stdout) as RunReport;
    expect(json).toMatchObject({ status: "failed", reverted, applied: stillApplied.slice().reverse(), clean: false, revertFailure: { migration: bad, phase: "down" } });
  });
});
