import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { revertCheckLines } from "../../../.dagger/src/rollback-run.js";
import type { RunReport } from "../../../pipelines/src/migrate/engine.js";
import { removeTree, tempTree } from "../../helpers/repo.js";
import { compileService } from "./compile.js";
import { migrate } from "./harness.js";
import { migrationsRows, schemaSnapshot, serverForTests } from "./postgres.js";

// Issue 12: before `migrate revert` reverts anything, every down() runs in a transaction that is rolled
// back; a down() that destroys data (or has none, sends no SQL, fails when tried) stops the revert unless
// slipway.yaml or --allow-destructive-revert allows it. FIXTURE_DOWN picks a down() per test: the
// migrations run in this process (the CLI in-process) and read process.env.
const migration = (name: string, up: string, down: string) => `import { MigrationInterface, QueryRunner } from "typeorm";

export class ${name} implements MigrationInterface {
    name = '${name}'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(\`${up}\`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        if (process.env.FIXTURE_DOWN === 'empty-${name}') return;
        if (process.env.FIXTURE_DOWN === 'fail-${name}') await queryRunner.query(\`DROP INDEX "no_such_index"\`);
        await queryRunner.query(\`${down}\`);
    }
}
`;

const ITEMS = "CreateItems1700000000701";
const NOTE = "AddItemNote1700000000702";
const AUDIT = "CreateAudit1700000000703";

function sources(ext: "" | ".js") {
  return {
    "src/data-source.ts": `import { DataSource } from "typeorm";
import { ${ITEMS} } from "./migrations/1700000000701-CreateItems${ext}";
import { ${NOTE} } from "./migrations/1700000000702-AddItemNote${ext}";
import { ${AUDIT} } from "./migrations/1700000000703-CreateAudit${ext}";
export const AppDataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, migrations: [${ITEMS}, ${NOTE}, ${AUDIT}] });\n`,
    "src/migrations/1700000000701-CreateItems.ts": migration(ITEMS, `CREATE TABLE "items" ("id" integer PRIMARY KEY, "label" text NOT NULL)`, `DROP TABLE "items"`),
    "src/migrations/1700000000702-AddItemNote.ts": migration(NOTE, `ALTER TABLE "items" ADD "note" text`, `ALTER TABLE "items" DROP COLUMN "note"`),
    "src/migrations/1700000000703-CreateAudit.ts": migration(AUDIT, `CREATE TABLE "audit" ("id" integer)`, `DROP TABLE "audit"`),
  };
}

// tsc's CommonJS output (NestJS) and an ESM service (relative imports with .js, "type": "module").
const services = { commonjs: compileService("commonjs", sources("")), esm: compileService("esm", sources(".js")) };

const { server } = await serverForTests();
afterAll(async () => {
  for (const s of Object.values(services)) s.remove();
  await server?.stop();
});

describe.skipIf(!server).each(["commonjs", "esm"] as const)("pipelines/src/migrate revert: down() checked before anything is reverted (PostgreSQL, %s)", (kind) => {
  const pg = server as NonNullable<typeof server>;
  const file = services[kind].out("src/data-source.ts");
  let databases = 0;

  async function applied(): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
    const url = await pg.database(`rs_${kind}_${++databases}`);
    const env = { ...process.env, DATABASE_URL: url };
    const run = await migrate(["migrate", "run", "--data-source", file], env);
    expect(run.code, run.stderr).toBe(0);
    return { url, env };
  }
  const names = async (url: string) => (await migrationsRows(pg, url)).map((r) => r.split(" ")[2]);
  function fixture(down: string): void {
    process.env.FIXTURE_DOWN = down;
    onTestFinished(() => void delete process.env.FIXTURE_DOWN);
  }

  it("drops of an empty table and an empty column lose nothing: reverted, each named in the report", async () => {
    const { url, env } = await applied();
    // A row whose note was never set: dropping the column loses nothing.
    await pg.query(url, `INSERT INTO items (id, label) VALUES (1, 'kept')`);

    const result = await migrate(["migrate", "revert", "--data-source", file, "--to", ITEMS], env);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      [
        "down() checked in a rolled-back transaction, newest first:",
        `  ${AUDIT}: down() ok`,
        `    drops table audit (empty now: nothing lost)  [DROP TABLE "audit"]`,
        `  ${NOTE}: down() ok`,
        `    drops column items.note (empty now: nothing lost)  [ALTER TABLE "items" DROP COLUMN "note"]`,
      ].join("\n"),
    );
    expect(result.stdout).toContain(`reverted 2: ${AUDIT}, ${NOTE}`);
    expect(await names(url)).toEqual([ITEMS]);
    expect(await pg.query(url, "SELECT id, label FROM items")).toEqual([{ id: 1, label: "kept" }]);
  });

  it("a down() that drops a column holding data blocks the revert before anything is reverted; --dry-run shows it; slipway.yaml or the flag allows it", async () => {
    const { url, env } = await applied();
    await pg.query(url, `INSERT INTO items (id, label, note) VALUES (1, 'a', 'written by the abandoned release')`);
    const schema = await schemaSnapshot(pg, url);

    const dry = await migrate(["migrate", "revert", "--data-source", file, "--to", ITEMS, "--dry-run"], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`  ${NOTE}: down() BLOCKS\n    drops column items.note (it holds data: LOST)  [ALTER TABLE "items" DROP COLUMN "note"]`);
    expect(dry.stdout).toContain(`the revert would be BLOCKED by ${NOTE}`);
    // What `dagger call rollback` reads of the same check, before anything is written (.dagger/src/rollback-run.ts).
    const dryJson = await migrate(["migrate", "revert", "--data-source", file, "--to", ITEMS, "--dry-run", "--json"], env);
    expect(dryJson.code).toBe(0);
    expect(revertCheckLines("svc", dryJson.stdout)).toEqual({
      lines: [`database check: svc: ${AUDIT}: down() ok; drop-table audit (empty)`, `database check: svc: ${NOTE}: down() BLOCKS; drop-column items.note (holds data)`],
      blocked: [NOTE],
    });

    const blocked = await migrate(["migrate", "revert", "--data-source", file, "--to", ITEMS, "--json"], env);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain(`SLIPWAY_MIGRATE_REVERT_DESTRUCTIVE: reverting "${NOTE}" would destroy data or cannot be checked; nothing was reverted`);
    expect(blocked.stderr).toContain("drops column items.note (it holds data: LOST)");
    expect(blocked.stderr).toContain("--allow-destructive-revert");
    const report = JSON.parse(blocked.stdout) as RunReport;
    expect(report).toMatchObject({ status: "blocked", reverted: [], left: [AUDIT, NOTE], revertSafety: { blocked: [NOTE] } });
    // The audit table's drop ran in the trial only: nothing changed, the data is there.
    expect(await names(url)).toEqual([ITEMS, NOTE, AUDIT]);
    expect(await schemaSnapshot(pg, url)).toEqual(schema);
    expect(await pg.query(url, "SELECT note FROM items")).toEqual([{ note: "written by the abandoned release" }]);

    // Allowed per service and per migration in slipway.yaml: reverted.
    const repo = tempTree({ "slipway.yaml": `migrate:\n  services:\n    svc:\n      allowDestructiveRevert: [${NOTE}]\n` });
    onTestFinished(() => removeTree(repo));
    const allowed = await migrate(["migrate", "revert", "--service", "svc", "--data-source", file, "--source", repo, "--to", ITEMS], env);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain(`  ${NOTE}: down() ALLOWED\n    drops column items.note (it holds data: LOST)`);
    expect(await names(url)).toEqual([ITEMS]);

    // The flag allows every one.
    const again = await applied();
    await pg.query(again.url, `INSERT INTO audit (id) VALUES (7)`);
    expect((await migrate(["migrate", "revert", "--data-source", file, "--count", "1"], again.env)).stderr).toContain(`reverting "${AUDIT}" would destroy data`);
    const forced = await migrate(["migrate", "revert", "--data-source", file, "--count", "1", "--allow-destructive-revert"], again.env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await names(again.url)).toEqual([ITEMS, NOTE]);
  });

  it("an empty down() blocks: reverting it would only forget the migration", async () => {
    const { url, env } = await applied();
    fixture(`empty-${AUDIT}`);
    const result = await migrate(["migrate", "revert", "--data-source", file, "--count", "1"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SLIPWAY_MIGRATE_REVERT_DESTRUCTIVE: reverting "${AUDIT}"`);
    expect(result.stderr).toContain(`${AUDIT}: down() BLOCKS: its down() sends no SQL`);
    expect(await names(url)).toEqual([ITEMS, NOTE, AUDIT]);
  });

  it("the 2nd of 3 down()s fails: caught by the check (nothing reverted); forced, the report names what was reverted and what is left", async () => {
    const { url, env } = await applied();
    fixture(`fail-${NOTE}`);

    const checked = await migrate(["migrate", "revert", "--data-source", file, "--count", "3", "--json"], env);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(`reverting "${NOTE}", "${ITEMS}" would destroy data or cannot be checked; nothing was reverted`);
    expect(checked.stderr).toContain(`${NOTE}: down() BLOCKS: its down() failed in a rolled-back transaction: index "no_such_index" does not exist (SQLSTATE 42704)`);
    expect(checked.stderr).toContain(`${ITEMS}: down() BLOCKS: it comes after ${NOTE}, whose down() failed when tried`);
    expect(await names(url)).toEqual([ITEMS, NOTE, AUDIT]);

    const forced = await migrate(["migrate", "revert", "--data-source", file, "--count", "3", "--allow-destructive-revert"], env);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain(`SLIPWAY_MIGRATE_REVERT_FAILED: down() of migration "${NOTE}" failed: index "no_such_index" does not exist (SQLSTATE 42704)`);
    expect(forced.stderr).toContain(`Reverted before the failure, newest first: ${AUDIT}.`);
    expect(forced.stderr).toContain(`Still applied, newest first: ${NOTE}, ${ITEMS}.`);
    expect(forced.stdout).toContain(`reverted before the failure, newest first: ${AUDIT}\nstill applied, newest first: ${NOTE}, ${ITEMS}`);
    // What the messages say is what the database holds.
    expect(await names(url)).toEqual([ITEMS, NOTE]);
    expect((await pg.query<{ t: string | null }>(url, "SELECT to_regclass('public.audit')::text AS t"))[0]?.t).toBeNull();

    const json = JSON.parse((await migrate(["migrate", "revert", "--data-source", file, "--count", "2", "--allow-destructive-revert", "--json"], env)).stdout) as RunReport;
    expect(json).toMatchObject({ status: "failed", reverted: [], left: [NOTE, ITEMS], failure: { migration: NOTE, phase: "down" } });
  });
});
